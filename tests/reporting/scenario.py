"""A hand-computed scenario: two operators, Berlin and New York, sessions across local midnight at a month end.

Berlin Hbf (Voltway, Europe/Berlin = UTC+1 in winter, 2 connectors)
  B1  2026-01-31 22:30Z -> 02-01 00:30Z  = local 01-31 23:30 -> 02-01 01:30: 1800 s on Jan 31, 5400 s on Feb 1;
      counts on Jan 31: 20 000 Wh, invoice 780 EUR cents, paid 780
  B2  2026-02-01 10:00Z -> 11:00Z        = local Feb 1: 3600 s; 10 000 Wh, invoice 390, payment failed (paid 0)
NY Midtown (Ampere, America/New_York = UTC-5, 1 connector)
  N1  2026-02-01 03:00Z -> 05:00Z        = local 01-31 22:00 -> 02-01 00:00: 7200 s all on Jan 31 (in UTC it
      would be Feb 1); 30 000 Wh, invoice 1500 USD cents, paid 1500
  N2  2026-02-01 12:00Z, still active    -> counts nothing
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction

from evcharge.contracts.billing import InvoiceGenerated, PaymentFailed, PaymentSucceeded
from evcharge.contracts.pricing import TariffSnapshot
from evcharge.contracts.reservations import ReservationCreated, ReservationExpired, SessionCompleted, SessionStarted
from evcharge.contracts.stations import (
    ChargerInfo,
    ConnectorInfo,
    Location,
    StationCreated,
    StationStatusChanged,
)
from evcharge.events import publish


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def tariff(currency: str) -> TariffSnapshot:
    return TariffSnapshot(
        rate_plan_id=None,
        currency=currency,
        energy_price_per_kwh=39 if currency == "EUR" else 50,
        time_price_per_min=0,
        session_fee=0,
        idle_fee_per_min=0,
        idle_grace_min=0,
    )


@dataclass
class Station:
    operator_id: uuid.UUID
    name: str
    timezone: str
    connectors: int
    station_id: uuid.UUID = field(default_factory=uuid.uuid4)
    charger_id: uuid.UUID = field(default_factory=uuid.uuid4)
    connector_ids: list = field(default_factory=list)

    def __post_init__(self):
        self.connector_ids = [uuid.uuid4() for _ in range(self.connectors)]

    def created(self) -> StationCreated:
        return StationCreated(
            station_id=self.station_id,
            operator_id=self.operator_id,
            name=self.name,
            timezone=self.timezone,
            location=Location(latitude=52.5, longitude=13.4, address=self.name),
            chargers=[
                ChargerInfo(
                    charger_id=self.charger_id,
                    serial=f"SN-{self.name}",
                    max_power_kw=150.0,
                    connectors=[
                        ConnectorInfo(
                            connector_id=cid,
                            number=i + 1,
                            type="CCS2",
                            max_power_kw=150.0,
                            status="Available",
                            code=f"C{i}{self.name[:3]}",
                        )
                        for i, cid in enumerate(self.connector_ids)
                    ],
                )
            ],
        )

    def status_changed(self, new_status: str, at: datetime, connector: int = 0) -> StationStatusChanged:
        return StationStatusChanged(
            station_id=self.station_id,
            charger_id=self.charger_id,
            connector_id=self.connector_ids[connector],
            connector_type="CCS2",
            old_status="Available",
            new_status=new_status,
            changed_at=at,
        )


@dataclass
class Session:
    station: Station
    currency: str
    started_at: datetime
    ended_at: datetime | None = None
    energy_wh: int = 0
    session_id: uuid.UUID = field(default_factory=uuid.uuid4)
    user_id: uuid.UUID = field(default_factory=uuid.uuid4)
    invoice_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def _common(self) -> dict:
        return {
            "session_id": self.session_id,
            "connector_id": self.station.connector_ids[0],
            "station_id": self.station.station_id,
            "user_id": self.user_id,
            "operator_id": self.station.operator_id,
            "connector_type": "CCS2",
            "reservation_id": None,
            "meter_start_wh": 1000,
            "started_at": self.started_at,
            "tariff": tariff(self.currency),
        }

    def started(self) -> SessionStarted:
        return SessionStarted(**self._common())

    def completed(self) -> SessionCompleted:
        return SessionCompleted(
            **self._common(),
            meter_stop_wh=1000 + self.energy_wh,
            energy_wh=self.energy_wh,
            ended_at=self.ended_at,
            charging_ended_at=None,
        )

    def invoice(self, total: int) -> InvoiceGenerated:
        return InvoiceGenerated(
            invoice_id=self.invoice_id,
            session_id=self.session_id,
            user_id=self.user_id,
            station_id=self.station.station_id,
            currency=self.currency,
            subtotal_amount=total,
            discount_amount=0,
            total_amount=total,
        )

    def paid(self, amount: int) -> PaymentSucceeded:
        return PaymentSucceeded(
            payment_id=uuid.uuid4(),
            invoice_id=self.invoice_id,
            session_id=self.session_id,
            user_id=self.user_id,
            station_id=self.station.station_id,
            amount=amount,
            discount_amount=0,
            currency=self.currency,
        )

    def payment_failed(self, amount: int) -> PaymentFailed:
        return PaymentFailed(
            payment_id=uuid.uuid4(),
            invoice_id=self.invoice_id,
            user_id=self.user_id,
            amount=amount,
            currency=self.currency,
            reason="card_declined",
        )


@dataclass
class Scenario:
    berlin: Station
    new_york: Station
    b1: Session
    b2: Session
    n1: Session
    n2: Session
    reservation: ReservationCreated

    @classmethod
    def build(cls, voltway_id: uuid.UUID, ampere_id: uuid.UUID) -> "Scenario":
        berlin = Station(voltway_id, "Berlin Hbf", "Europe/Berlin", connectors=2)
        new_york = Station(ampere_id, "NY Midtown", "America/New_York", connectors=1)
        return cls(
            berlin=berlin,
            new_york=new_york,
            b1=Session(berlin, "EUR", utc(2026, 1, 31, 22, 30), utc(2026, 2, 1, 0, 30), 20_000),
            b2=Session(berlin, "EUR", utc(2026, 2, 1, 10), utc(2026, 2, 1, 11), 10_000),
            n1=Session(new_york, "USD", utc(2026, 2, 1, 3), utc(2026, 2, 1, 5), 30_000),
            n2=Session(new_york, "USD", utc(2026, 2, 1, 12)),
            reservation=ReservationCreated(
                reservation_id=uuid.uuid4(),
                connector_id=berlin.connector_ids[1],
                station_id=berlin.station_id,
                user_id=uuid.uuid4(),
                starts_at=utc(2026, 1, 31, 23, 30),  # local Feb 1 00:30 in Berlin
                ends_at=utc(2026, 2, 1, 0, 0),
            ),
        )

    def events(self) -> list:
        """Every event, in an order full of surprises: completed before started, invoice and payment before
        their session, sessions before their station."""
        b1, b2, n1, n2 = self.b1, self.b2, self.n1, self.n2
        return [
            self.berlin.created(),
            b1.completed(),
            b1.paid(780),  # payment before invoice
            b1.invoice(780),
            b1.started(),  # started after completed
            b2.started(),
            b2.invoice(390),  # invoice before completed
            b2.payment_failed(390),
            b2.completed(),
            n1.invoice(1500),  # everything of New York before its station
            n1.completed(),
            n1.started(),
            n1.paid(1500),
            n2.started(),
            # a status change stamped after the station.created.v1 that is published (and arrives) after it:
            self.new_york.status_changed("Charging", datetime.now(UTC) + timedelta(minutes=5)),
            self.new_york.created(),
            ReservationExpired(  # the no-show arrives before the reservation itself
                reservation_id=self.reservation.reservation_id,
                connector_id=self.reservation.connector_id,
                station_id=self.reservation.station_id,
                user_id=self.reservation.user_id,
            ),
            self.reservation,
        ]

    def publish_all(self) -> None:
        for event in self.events():
            with transaction.atomic():
                publish(event)
