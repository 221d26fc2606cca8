"""The staff dashboard: revenue and utilization over time, rendered on the server (linked from the admin)."""

from collections.abc import Callable
from datetime import date, timedelta

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.reporting import selectors
from apps.reporting.api.charts import bar_chart
from apps.reporting.api.serializers import FIRST_DAY, LAST_DAY, MAX_RANGE_DAYS
from apps.reporting.rollups import GROUP_BYS
from evcharge.money import format_money, minor_units, to_major

# The stations table shows this many stations at most (narrow with the station filter for the rest).
DASHBOARD_STATIONS = 200


class DashboardForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(choices=[(g, g.title()) for g in GROUP_BYS], required=False)
    station = forms.ChoiceField(required=False)

    def __init__(self, *args, stations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].choices = [("", "All my stations")] + [
            (str(station_id), name or str(station_id)) for station_id, name in stations
        ]

    def clean(self):
        data = super().clean()
        out_of_range = forms.ValidationError(f"Choose days from {FIRST_DAY} to {LAST_DAY}.")
        end = data.get("end") or timezone.now().date()
        if not FIRST_DAY <= end <= LAST_DAY:
            raise out_of_range
        start = data.get("start") or max(end - timedelta(days=29), FIRST_DAY)
        if not FIRST_DAY <= start <= LAST_DAY:
            raise out_of_range
        if start > end or (end - start).days >= MAX_RANGE_DAYS:
            raise forms.ValidationError(f"Choose a range of 1 to {MAX_RANGE_DAYS} days, From before To.")
        data["start"], data["end"] = start, end
        data["group_by"] = data.get("group_by") or "day"
        return data


def _operator_scope(user) -> selectors.Scope:
    """Admins (role admin or superuser) see every station; an operator's staff see their own."""
    role = getattr(user, "role", None)
    if user.is_superuser or role == "admin":
        return selectors.Scope()
    if role == "operator" and getattr(user, "operator_id", None):
        return selectors.Scope(operator_id=user.operator_id)
    raise PermissionDenied("The reporting dashboard is for operators and admins.")


def _label(start: date, group_by: str) -> str:
    return start.strftime("%Y-%m") if group_by == "month" else start.strftime("%m-%d")


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = _operator_scope(request.user)
    stations = selectors.operator_stations(scope.operator_id)
    form = DashboardForm(request.GET, stations=stations)
    if not form.is_valid():
        return render(request, "reporting/dashboard.html", {"form": form, "title": "Reporting"}, status=400)
    data = form.cleaned_data
    station_id = data.get("station") or None
    scope = selectors.Scope(operator_id=scope.operator_id, station_id=station_id)
    first, last, group_by = data["start"], data["end"], data["group_by"]
    revenue = selectors.revenue_report(scope=scope, first=first, last=last, group_by=group_by)
    utilization = selectors.utilization_report(scope=scope, first=first, last=last, group_by=group_by)
    labels = [_label(row["period_start"], group_by) for row in utilization]
    totals: dict[str, list[int]] = {}
    for row in revenue:
        billed_paid = totals.setdefault(row["currency"], [0, 0])
        billed_paid[0] += row["revenue_amount"]
        billed_paid[1] += row["paid_amount"]
    revenue_charts = []
    for currency in sorted(totals):
        amounts = {row["period_start"]: row["revenue_amount"] for row in revenue if row["currency"] == currency}
        values = [_major(amounts.get(row["period_start"], 0), currency) for row in utilization]
        revenue_charts.append(
            {
                "currency": currency,
                "svg": bar_chart(
                    labels, values, title=f"Revenue billed ({currency})", format_value=_axis_format(currency)
                ),
            }
        )
    utilization_chart = bar_chart(
        labels,
        [row["utilization"] * 100 for row in utilization],
        title="Utilization (%)",
        format_value=lambda v: f"{v:.1f}%",
    )
    stations_shown = selectors.stations_report(scope=scope, first=first, last=last, limit=DASHBOARD_STATIONS)
    for station in stations_shown:
        station["money"] = [
            {
                "billed": _money(money["amount"], money["currency"]),
                "paid": _money(money["paid_amount"], money["currency"]),
            }
            for money in station["revenue"]
        ]
    context = {
        "title": "Reporting dashboard",
        "form": form,
        "first": first,
        "last": last,
        "totals": [
            {"currency": currency, "billed": _money(billed, currency), "paid": _money(paid, currency)}
            for currency, (billed, paid) in sorted(totals.items())
        ],
        "revenue_charts": revenue_charts,
        "utilization_chart": utilization_chart,
        "stations": stations_shown,
        "stations_capped": len(stations_shown) == DASHBOARD_STATIONS,
    }
    return render(request, "reporting/dashboard.html", context)


def _money(amount: int, currency: str) -> str:
    """In the currency's own minor units (¥500, KWD1.234, €12.34); a code outside the table as raw minor units."""
    try:
        return format_money(amount, currency)
    except ValueError:
        return f"{amount} {currency} (minor units)"


def _major(amount: int, currency: str) -> float:
    try:
        return float(to_major(amount, currency))
    except ValueError:
        return float(amount)


def _axis_format(currency: str) -> Callable[[float], str]:
    try:
        digits = minor_units(currency)
    except ValueError:
        digits = 0
    return lambda value: f"{value:,.{digits}f}"
