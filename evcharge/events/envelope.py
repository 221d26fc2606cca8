"""The CloudEvents 1.0 envelope every event travels in (structured mode)."""

import dataclasses
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from evcharge.contracts._base import EVENT_TYPES
from evcharge.events.codec import from_primitive, to_primitive

T = TypeVar("T")
CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"


@dataclass(frozen=True, kw_only=True)
class EventEnvelope(Generic[T]):
    type: str
    source: str
    data: T
    id: UUID = field(default_factory=uuid.uuid4)
    specversion: str = "1.0"
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: str = "application/json"
    traceparent: str | None = None
    correlationid: str | None = None

    @classmethod
    def wrap(
        cls,
        event: T,
        *,
        subject: str | None = None,
        traceparent: str | None = None,
        correlationid: str | None = None,
    ) -> "EventEnvelope[T]":
        if subject is None:
            first_field = dataclasses.fields(event)[0].name  # ClassVars (TYPE, SOURCE) are not fields
            subject = str(getattr(event, first_field))
        return cls(
            type=event.TYPE,  # type: ignore[attr-defined]
            source=event.SOURCE,  # type: ignore[attr-defined]
            data=event,
            subject=subject,
            traceparent=traceparent,
            correlationid=correlationid,
        )

    def to_dict(self) -> dict[str, Any]:
        body = {
            "specversion": self.specversion,
            "id": str(self.id),
            "type": self.type,
            "source": self.source,
            "time": to_primitive(self.time),
            "subject": self.subject,
            "datacontenttype": self.datacontenttype,
            "traceparent": self.traceparent,
            "correlationid": self.correlationid,
            "data": to_primitive(self.data),
        }
        return {k: v for k, v in body.items() if v is not None}

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> "EventEnvelope[Any]":
        """Parses an envelope; `data` becomes the contract dataclass when the type is known."""
        contract = EVENT_TYPES.get(body["type"])
        data = from_primitive(contract, body["data"]) if contract else body.get("data")
        return cls(
            id=UUID(body["id"]),
            type=body["type"],
            source=body["source"],
            specversion=body.get("specversion", "1.0"),
            time=from_primitive(datetime, body["time"]),
            subject=body.get("subject"),
            datacontenttype=body.get("datacontenttype", "application/json"),
            traceparent=body.get("traceparent"),
            correlationid=body.get("correlationid"),
            data=data,
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> "EventEnvelope[Any]":
        return cls.from_dict(json.loads(raw))
