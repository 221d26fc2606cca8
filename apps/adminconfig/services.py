from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.adminconfig import schemas, selectors
from apps.adminconfig.models import SETTINGS_FIELDS, ConfigChange, ConfigEntry, StationSettings
from evcharge.actor import Actor
from evcharge.contracts.adminconfig import ConfigChanged, StationConfigUpdated
from evcharge.contracts.adminconfig import StationSettings as StationSettingsContract
from evcharge.errors import InvalidInput, NotFound, PreconditionFailed
from evcharge.events import publish

_UNSET = object()


def _check_version(expected_version: int | None, current: int | None, key: str) -> None:
    if expected_version is None:
        return
    if current is None or expected_version != current:
        shown = "does not exist" if current is None else f"is at version {current}"
        raise PreconditionFailed(
            f"{key} {shown}, not version {expected_version}: someone changed it since you read it. "
            "Read it again and retry.",
            code="stale_write",
        )


@transaction.atomic
def config_set(
    *,
    key: str,
    value: Any,
    by: Actor,
    by_email: str = "",
    description: str | None = None,
    expected_version: int | None = None,
) -> ConfigEntry:
    """Creates or changes a key, keeps the history, publishes config.changed.v1. If-Match → expected_version.
    `by_email` is kept with the change, so that "updated by" reads as a person, not a user id."""
    if problem := schemas.key_problem(key):
        raise InvalidInput(problem, errors={"key": [problem]})
    if problems := schemas.value_problems(key, value):
        raise InvalidInput(f"The value does not fit {key}'s schema.", errors={"value": problems})

    entry = ConfigEntry.objects.select_for_update().filter(key=key).first()
    _check_version(expected_version, entry.version if entry else None, key)
    if entry is None:
        try:
            with transaction.atomic():
                entry = ConfigEntry.objects.create(
                    key=key,
                    value=value,
                    description=description or "",
                    version=1,
                    updated_by=by.user_id,
                    updated_by_email=by_email,
                )
        except IntegrityError as exc:  # created concurrently
            raise PreconditionFailed(f"{key} was just created by someone else; read it and retry.") from exc
        old_value, old_description = None, ""
    else:
        if entry.value == value and (description is None or description == entry.description):
            return entry
        old_value, old_description = entry.value, entry.description
        entry.value = value
        if description is not None:
            entry.description = description
        entry.version += 1
        entry.updated_by = by.user_id
        entry.updated_by_email = by_email
        entry.save()
    ConfigChange.objects.create(
        entry=entry,
        version=entry.version,
        old_value=old_value,
        new_value=entry.value,
        old_description=old_description,
        new_description=entry.description,
        changed_by=by.user_id,
        changed_by_email=by_email,
    )
    publish(
        ConfigChanged(
            key=key,
            old_value=old_value,
            new_value=entry.value,
            version=entry.version,
            changed_by=by.user_id,
            changed_at=timezone.now(),
        )
    )
    return entry


def _settings_contract(settings: StationSettings) -> StationSettingsContract:
    return StationSettingsContract(**{name: getattr(settings, name) for name in SETTINGS_FIELDS})


@transaction.atomic
def station_settings_seed(*, station_id: UUID, operator_id: UUID, station_name: str, version: int = 0) -> None:
    """On station.created/updated.v1: the station's settings from the config defaults when it first appears (whichever
    of its events arrives first); its name and operator from the newest station event after that. An older event
    arriving late changes nothing; one without a version (from before versions) only seeds, as before."""
    defaults = {
        key.rsplit(".", 1)[1]: selectors.config_value(key, default) for key, default in schemas.STATION_DEFAULTS.items()
    }
    _, created = StationSettings.objects.get_or_create(
        station_id=station_id,
        defaults={"operator_id": operator_id, "station_name": station_name, "station_version": version, **defaults},
    )
    if not created and version:
        StationSettings.objects.filter(station_id=station_id, station_version__lt=version).update(
            operator_id=operator_id, station_name=station_name, station_version=version
        )


@transaction.atomic
def station_settings_update(*, station_id: UUID, by: Actor, changes: dict[str, Any]) -> StationSettings:
    problems = {
        name: found for name, value in changes.items() if (found := schemas.station_setting_problems(name, value))
    }
    if problems:
        raise InvalidInput("Some settings are out of bounds.", errors=problems)
    settings = StationSettings.objects.select_for_update().filter(station_id=station_id).first()
    if settings is None or not by.manages(settings.operator_id):
        raise NotFound("No such station.")
    changed = [name for name in SETTINGS_FIELDS if name in changes and changes[name] != getattr(settings, name)]
    if not changed:
        return settings
    for name in changed:
        setattr(settings, name, changes[name])
    settings.version += 1
    settings.updated_by = by.user_id
    settings.save()
    publish(
        StationConfigUpdated(
            station_id=settings.station_id,
            operator_id=settings.operator_id,
            settings=_settings_contract(settings),
            changed=changed,
            version=settings.version,
        )
    )
    return settings
