"""The connection side: credentials, boot, status, authorize, transactions, meter values (called by the gateway)."""
