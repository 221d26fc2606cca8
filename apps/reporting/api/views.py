"""GET /reports/stations, /reports/revenue, /reports/utilization — JSON, or CSV with ?format=csv."""

from collections.abc import Iterable, Iterator
from datetime import date

from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.reporting import selectors
from apps.reporting.api import serializers as s
from apps.reporting.api.renderers import CSVRenderer, csv_lines
from apps.reporting.api.serializers import FIRST_DAY, LAST_DAY, MAX_RANGE_DAYS
from evcharge.api.authentication import JWT_OR_API_KEY
from evcharge.api.pagination import LimitOffsetPagination
from evcharge.api.permissions import IsOperatorOrAdmin, actor
from evcharge.errors import InvalidInput, NotFound

# The CSV export streams the stations this many at a time.
CSV_CHUNK_STATIONS = 500

_PARAMETERS = {
    "from": OpenApiParameter(
        "from", OpenApiTypes.DATE, description=f"first local day (default: 30 days ago), {FIRST_DAY} to {LAST_DAY}"
    ),
    "to": OpenApiParameter(
        "to",
        OpenApiTypes.DATE,
        description=f"last local day, inclusive (default: today), {FIRST_DAY} to {LAST_DAY}; "
        f"at most {MAX_RANGE_DAYS} days after `from`",
    ),
    "station_id": OpenApiParameter("station_id", OpenApiTypes.UUID),
    "operator_id": OpenApiParameter("operator_id", OpenApiTypes.UUID, description="admins only"),
    "group_by": OpenApiParameter("group_by", OpenApiTypes.STR, enum=["day", "week", "month"]),
    "currency": OpenApiParameter(
        "currency", OpenApiTypes.STR, description="ISO 4217 code of a currency in circulation, e.g. EUR"
    ),
    "format": OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
}


NO_STATION = OpenApiResponse(description="No such station of yours (`station_id`).")


def _params(*names: str) -> list[OpenApiParameter]:
    return [_PARAMETERS[name] for name in names]


class _ReportApi(APIView):
    permission_classes = [IsOperatorOrAdmin]
    authentication_classes = JWT_OR_API_KEY
    renderer_classes = [JSONRenderer, CSVRenderer]
    csv_name = "report"

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404 as exc:
            raise InvalidInput("Unknown format.", errors={"format": ["Choose json or csv."]}) from exc

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    def query(self, request) -> tuple[dict, selectors.Scope]:
        data = s.ReportQuery(data=request.query_params)
        data.is_valid(raise_exception=True)
        query = data.validated_data
        caller = actor(request)
        operator_id = query.get("operator_id") if caller.is_admin else caller.operator_id
        station_id = query.get("station_id")
        if station_id is not None:
            station = selectors.station_get(station_id)
            if station is None or not (caller.is_admin or station.operator_id == caller.operator_id):
                raise NotFound("No such station.")
        return query, selectors.Scope(operator_id=operator_id, station_id=station_id)

    def wants_csv(self, request) -> bool:
        return getattr(request.accepted_renderer, "format", None) == "csv"

    def stream_csv(self, header: list[str], rows: Iterable[list], query: dict) -> StreamingHttpResponse:
        response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
        filename = f"{self.csv_name}_{query['from']}_{query['to']}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class StationsReportApi(_ReportApi):
    """Operators (their own stations) and admins: per station over a period — sessions, energy, revenue per
    currency, utilization, current status."""

    csv_name = "stations"

    @extend_schema(
        parameters=_params("from", "to", "station_id", "operator_id", "format"),
        responses={200: s.StationsReportOut, 404: NO_STATION},
        tags=["reporting"],
    )
    def get(self, request):
        query, scope = self.query(request)
        if self.wants_csv(request):
            return self._csv(scope, query)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(_StationPages(scope, query["from"], query["to"]), request, view=self)
        return paginator.get_paginated_response(page)  # plain values; StationReportOut documents them

    def _csv(self, scope: selectors.Scope, query: dict) -> StreamingHttpResponse:
        first, last = query["from"], query["to"]
        currencies = selectors.report_currencies(scope=scope, first=first, last=last)
        scalar = ["station_id", "name", "operator_id", "timezone", "status", "connectors", "sessions", "energy_wh"]
        tail = ["occupied_seconds", "capacity_seconds", "utilization", "reservations", "no_shows"]
        money = [f"{kind}_{currency}" for currency in currencies for kind in ("revenue", "paid")]

        def rows() -> Iterator[list]:
            offset = 0
            while chunk := selectors.stations_report(
                scope=scope, first=first, last=last, limit=CSV_CHUNK_STATIONS, offset=offset
            ):
                offset += len(chunk)
                for station in chunk:
                    by_currency = {revenue["currency"]: revenue for revenue in station["revenue"]}
                    amounts = []
                    for currency in currencies:
                        revenue = by_currency.get(currency, {"amount": 0, "paid_amount": 0})
                        amounts += [revenue["amount"], revenue["paid_amount"]]
                    yield [station[key] for key in scalar] + amounts + [station[key] for key in tail]

        return self.stream_csv(scalar + money + tail, rows(), query)


class _StationPages:
    """The stations report as a sequence the paginator slices: counting and one page read the database,
    never the whole network."""

    def __init__(self, scope: selectors.Scope, first: date, last: date):
        self.scope, self.first, self.last = scope, first, last

    def count(self) -> int:
        return selectors.stations_count(self.scope)

    def __getitem__(self, page: slice) -> list[dict]:
        return selectors.stations_report(
            scope=self.scope, first=self.first, last=self.last, limit=page.stop - page.start, offset=page.start
        )


def _series_body(query: dict, scope: selectors.Scope, results: list, **extra) -> dict:
    """The selectors return plain values (the JSON renderer writes UUIDs and dates); the *Out serializers
    document the shape in the schema without paying for field-by-field serialization on every row."""
    return {
        "from": query["from"],
        "to": query["to"],
        "group_by": query["group_by"],
        "station_id": scope.station_id,
        **extra,
        "results": results,
    }


class RevenueReportApi(_ReportApi):
    """Operators (own stations) and admins: sessions, energy and revenue per day/week/month (buckets are
    local days of each station) and currency."""

    csv_name = "revenue"
    columns = ["period_start", "period_end", "currency", "sessions", "energy_wh", "revenue_amount", "paid_amount"]

    @extend_schema(
        parameters=_params("from", "to", "group_by", "station_id", "currency", "operator_id", "format"),
        responses={200: s.RevenueReportOut, 404: NO_STATION},
        tags=["reporting"],
    )
    def get(self, request):
        query, scope = self.query(request)
        report = selectors.revenue_report(
            scope=scope,
            first=query["from"],
            last=query["to"],
            group_by=query["group_by"],
            currency=query.get("currency"),
        )
        if self.wants_csv(request):
            return self.stream_csv(self.columns, ([_iso(row[c]) for c in self.columns] for row in report), query)
        return Response(_series_body(query, scope, report, currency=query.get("currency")))


class UtilizationReportApi(_ReportApi):
    """Operators (own stations) and admins: share of connector-time occupied by sessions per bucket."""

    csv_name = "utilization"
    columns = ["period_start", "period_end", "occupied_seconds", "capacity_seconds", "utilization"]

    @extend_schema(
        parameters=_params("from", "to", "group_by", "station_id", "operator_id", "format"),
        responses={200: s.UtilizationReportOut, 404: NO_STATION},
        tags=["reporting"],
    )
    def get(self, request):
        query, scope = self.query(request)
        report = selectors.utilization_report(
            scope=scope, first=query["from"], last=query["to"], group_by=query["group_by"]
        )
        if self.wants_csv(request):
            return self.stream_csv(self.columns, ([_iso(row[c]) for c in self.columns] for row in report), query)
        return Response(_series_body(query, scope, report))


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value
