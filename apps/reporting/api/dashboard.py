"""The staff dashboard: revenue and utilization over time, rendered on the server (linked from the admin)."""

from datetime import date, timedelta

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.reporting import selectors
from apps.reporting.api.charts import bar_chart
from apps.reporting.api.serializers import MAX_RANGE_DAYS
from apps.reporting.rollups import GROUP_BYS


class DashboardForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(choices=[(g, g.title()) for g in GROUP_BYS], required=False)
    station = forms.ChoiceField(required=False)

    def __init__(self, *args, stations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].choices = [("", "All my stations")] + [
            (str(dim.station_id), dim.name or str(dim.station_id)) for dim in stations
        ]

    def clean(self):
        data = super().clean()
        end = data.get("end") or timezone.now().date()
        start = data.get("start") or end - timedelta(days=29)
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
    currencies = sorted({row["currency"] for row in revenue})
    revenue_charts = []
    for currency in currencies:
        amounts = {row["period_start"]: row["revenue_amount"] for row in revenue if row["currency"] == currency}
        labels = [_label(row["period_start"], group_by) for row in utilization]
        values = [amounts.get(row["period_start"], 0) / 100 for row in utilization]
        revenue_charts.append(
            {
                "currency": currency,
                "svg": bar_chart(labels, values, title=f"Revenue ({currency})", format_value=lambda v: f"{v:,.0f}"),
            }
        )
    utilization_chart = bar_chart(
        [_label(row["period_start"], group_by) for row in utilization],
        [row["utilization"] * 100 for row in utilization],
        title="Utilization (%)",
        format_value=lambda v: f"{v:.1f}%",
    )
    context = {
        "title": "Reporting dashboard",
        "form": form,
        "first": first,
        "last": last,
        "revenue_charts": revenue_charts,
        "utilization_chart": utilization_chart,
        "stations": selectors.stations_report(scope=scope, first=first, last=last),
    }
    return render(request, "reporting/dashboard.html", context)
