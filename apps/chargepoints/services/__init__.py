"""Writes of the chargepoints context: the OCPP connection and transactions (connection.py) and remote commands
(commands.py)."""
