"""What crosses a context boundary: event payloads (frozen dataclasses) and facade protocols.

No Django imports here: a contract must survive the context being lifted into its own service.
"""
