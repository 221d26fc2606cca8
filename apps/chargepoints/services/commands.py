"""Remote commands: recorded in the caller's transaction, routed after commit to the gateway holding the charger."""
