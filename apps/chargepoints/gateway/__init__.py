"""The OCPP gateway process: WebSocket server, one module per protocol version behind the platform actions."""
