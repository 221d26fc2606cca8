"""ChargepointsFacade for the other contexts (evcharge/contracts/chargepoints.py)."""


class ChargepointsFacadeImpl:
    pass
