"""Reads of the chargepoints context."""
