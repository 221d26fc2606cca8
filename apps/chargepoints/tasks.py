"""Celery tasks of the chargepoints context."""

from celery import shared_task

from apps.chargepoints.services import commands

SWEEP_COMMANDS = "chargepoints.sweep_commands"


@shared_task(name=SWEEP_COMMANDS)
def sweep_commands() -> dict[str, int]:
    """Beat (OCPP_COMMAND_SWEEP_S): commands no gateway answered time out; accepted remote starts without the
    charger's StartTransaction in OCPP_REMOTE_START_TIMEOUT_S cancel their pending session; ReserveNow for
    reservations whose window starts within OCPP_RESERVE_NOW_LEAD_S."""
    counts = commands.commands_sweep()
    counts["reservations_sent"] = commands.ocpp_reservations_send_due()
    return counts
