"""CSV exports neutralise cells a spreadsheet would read as a formula (OWASP: prefix with a single quote)."""

import csv
import io
import uuid

import pytest
from django.db import transaction

from apps.reporting.api.renderers import csv_lines
from evcharge.events import publish
from tests.reporting.scenario import Station

EVIL = '=HYPERLINK("http://evil","x")'


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("name", [EVIL, "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"])
def test_a_station_named_like_a_formula_is_exported_as_text(admin_client, reporting_only, operator_org, name):
    station = Station(operator_org.id, name, "Europe/Berlin", connectors=1)
    with transaction.atomic():
        publish(station.created())

    response = admin_client.get("/api/v1/reports/stations", {"format": "csv"})

    assert response.status_code == 200
    header, row = rows_of(b"".join(response.streaming_content).decode())
    assert row[header.index("name")] == "'" + name


def test_numbers_stay_numbers_and_plain_text_stays_as_it_is():
    text = "".join(csv_lines(["a", "b", "c", "d", "e", "f"], [[-780, 1170, 0.0521, "-12.5", "Berlin Hbf", None]]))

    assert rows_of(text)[1] == ["-780", "1170", "0.0521", "-12.5", "Berlin Hbf", ""]


def test_every_cell_is_checked_header_included():
    text = "".join(csv_lines(["=bad"], [["=1+1"], ["a=b"], [uuid.UUID(int=0)]]))

    assert rows_of(text) == [["'=bad"], ["'=1+1"], ["a=b"], [str(uuid.UUID(int=0))]]
