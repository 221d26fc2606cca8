"""Subscribers of the chargepoints context."""
