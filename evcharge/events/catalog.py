"""The event catalog: a JSON Schema per event type, generated from its contract dataclass, and the
AsyncAPI 3 document describing the whole bus (served at /api/asyncapi.yaml)."""

import dataclasses
import importlib
import pkgutil
import types
import typing
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, Union
from uuid import UUID

from django.conf import settings

from evcharge.contracts._base import EVENT_TYPES
from evcharge.events.envelope import CLOUDEVENTS_CONTENT_TYPE
from evcharge.events.registry import subscriptions, topic_matches


def load_contracts() -> dict[str, type]:
    """Imports every contract module, so EVENT_TYPES holds every event type declared."""
    import evcharge.contracts

    for module in pkgutil.iter_modules(evcharge.contracts.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"evcharge.contracts.{module.name}")
    return dict(EVENT_TYPES)


class SchemaBuilder:
    """Turns type hints into JSON Schema; nested dataclasses become shared definitions."""

    def __init__(self, ref_prefix: str) -> None:
        self.ref_prefix = ref_prefix
        self.definitions: dict[str, dict[str, Any]] = {}
        self._names: dict[type, str] = {}

    def name_of(self, cls: type) -> str:
        if cls not in self._names:
            name = cls.__name__
            if name in self._names.values():
                name = f"{cls.__module__.rsplit('.', 1)[-1]}.{name}"
            self._names[cls] = name
        return self._names[cls]

    def ref(self, cls: type) -> dict[str, Any]:
        name = self.name_of(cls)
        if name not in self.definitions:
            self.definitions[name] = {}  # placeholder against recursion
            self.definitions[name] = self.object_schema(cls)
        return {"$ref": f"{self.ref_prefix}{name}"}

    def object_schema(self, cls: type) -> dict[str, Any]:
        hints = typing.get_type_hints(cls)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in dataclasses.fields(cls):
            if not field.init:
                continue
            properties[field.name] = self.schema(hints[field.name])
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                required.append(field.name)
        schema: dict[str, Any] = {"type": "object", "title": cls.__name__, "properties": properties}
        if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("):
            schema["description"] = " ".join(cls.__doc__.split())
        if required:
            schema["required"] = required
        return schema

    def schema(self, tp: Any) -> dict[str, Any]:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if tp is Any or tp is typing.Any:
            return {}
        if origin in (Union, types.UnionType):
            options = [self.schema(arg) for arg in args if arg is not type(None)]
            if type(None) in args:
                options.append({"type": "null"})
            return options[0] if len(options) == 1 else {"anyOf": options}
        if origin is typing.Literal:
            return {"enum": list(args)}
        if dataclasses.is_dataclass(tp):
            return self.ref(tp)
        if origin in (list, set, frozenset) or tp in (list, set, frozenset):
            return {"type": "array", "items": self.schema(args[0]) if args else {}}
        if origin is tuple or tp is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return {"type": "array", "items": self.schema(args[0])}
            if args:
                return {"type": "array", "prefixItems": [self.schema(a) for a in args], "items": False}
            return {"type": "array"}
        if origin is dict or tp is dict:
            return {"type": "object", "additionalProperties": self.schema(args[1]) if args else {}}
        if isinstance(tp, type) and issubclass(tp, Enum):
            return {"enum": [member.value for member in tp]}
        simple = {
            UUID: {"type": "string", "format": "uuid"},
            datetime: {"type": "string", "format": "date-time"},
            date: {"type": "string", "format": "date"},
            bool: {"type": "boolean"},
            int: {"type": "integer"},
            float: {"type": "number"},
            str: {"type": "string"},
        }
        if tp in simple:
            return dict(simple[tp])
        raise TypeError(f"no JSON Schema for {tp!r}")


def envelope_schema(contract: type, data_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "title": f"{contract.TYPE} (CloudEvents 1.0, structured mode)",  # type: ignore[attr-defined]
        "required": ["specversion", "id", "type", "source", "time", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "format": "uuid"},
            "type": {"const": contract.TYPE},  # type: ignore[attr-defined]
            "source": {"const": contract.SOURCE},  # type: ignore[attr-defined]
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string", "description": "The aggregate's id"},
            "datacontenttype": {"const": "application/json"},
            "traceparent": {"type": "string", "description": "W3C trace context of the publishing request"},
            "correlationid": {"type": "string", "description": "The request id that caused the event"},
            "data": data_schema,
        },
    }


@cache
def event_schema(event_type: str) -> dict[str, Any]:
    """A standalone JSON Schema (2020-12) of the whole envelope of one event type."""
    contract = load_contracts()[event_type]
    builder = SchemaBuilder("#/$defs/")
    data = builder.object_schema(contract)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **envelope_schema(contract, data)}
    if builder.definitions:
        schema["$defs"] = builder.definitions
    return schema


@cache
def _validator(event_type: str):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(event_schema(event_type), format_checker=Draft202012Validator.FORMAT_CHECKER)


def validation_errors(envelope: dict[str, Any]) -> list[str]:
    """What is wrong with a published envelope (empty: it matches its type's schema)."""
    event_type = envelope.get("type")
    if event_type not in load_contracts():
        return [f"unknown event type {event_type!r}: declare it in evcharge/contracts with @event_contract"]
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(envelope)'}: {error.message}"
        for error in _validator(event_type).iter_errors(envelope)
    ]


def _broker_host() -> str:
    from kombu.utils.url import parse_url

    parts = parse_url(settings.EVENTS_BROKER_URL) if settings.EVENTS_BROKER_URL else {}
    return f"{parts.get('hostname') or 'rabbitmq'}:{parts.get('port') or 5672}"  # never the credentials


def asyncapi_document() -> dict[str, Any]:
    contracts = dict(sorted(load_contracts().items()))
    builder = SchemaBuilder("#/components/schemas/")
    exchange = {
        "name": settings.EVENTS_EXCHANGE,
        "type": "topic",
        "durable": True,
        "autoDelete": False,
        "vhost": "/",
    }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, contract in contracts.items():
        data_ref = builder.ref(contract)
        context = contract.SOURCE.rsplit("/", 1)[-1]  # type: ignore[attr-defined]
        messages[event_type] = {
            "name": event_type,
            "title": contract.__name__,
            "summary": f"Published by {context}",
            "contentType": CLOUDEVENTS_CONTENT_TYPE,
            "payload": envelope_schema(contract, data_ref),
            "bindings": {"amqp": {"messageType": event_type, "bindingVersion": "0.3.0"}},
        }
        channels[event_type] = {
            "address": event_type,
            "description": f"Routing key {event_type} on the topic exchange {settings.EVENTS_EXCHANGE}.",
            "messages": {contract.__name__: {"$ref": f"#/components/messages/{event_type}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": exchange, "bindingVersion": "0.3.0"}},
        }
        message_ref = {"$ref": f"#/channels/{event_type}/messages/{contract.__name__}"}
        operations[f"{context}.send.{event_type}"] = {
            "action": "send",
            "title": f"{context} publishes {event_type}",
            "channel": {"$ref": f"#/channels/{event_type}"},
            "messages": [message_ref],
            "bindings": {"amqp": {"deliveryMode": 2, "mandatory": True, "bindingVersion": "0.3.0"}},
        }
        receivers = sorted({s.consumer for s in subscriptions() if topic_matches(s.pattern, event_type)})
        for consumer in receivers:
            operations[f"{consumer}.receive.{event_type}"] = {
                "action": "receive",
                "title": f"{consumer} consumes {event_type} from queue {settings.EVENTS_QUEUE_PREFIX}{consumer}",
                "channel": {"$ref": f"#/channels/{event_type}"},
                "messages": [message_ref],
                "bindings": {"amqp": {"ack": True, "bindingVersion": "0.3.0"}},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "evcharge events",
            "version": "1.0.0",
            "description": (
                "Domain events of the evcharge contexts: CloudEvents 1.0 envelopes in structured mode, "
                "published through a transactional outbox to a RabbitMQ topic exchange (routing key = type), "
                "delivered at least once to one durable queue per consuming context; consumers are "
                "idempotent through their inbox. A breaking payload change is a new type (.v2)."
            ),
        },
        "defaultContentType": CLOUDEVENTS_CONTENT_TYPE,
        "servers": {
            "rabbitmq": {
                "host": _broker_host(),
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "description": "The broker named by CELERY_BROKER_URL / EVENTS_BROKER_URL.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": builder.definitions},
    }
