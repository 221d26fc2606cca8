from evcharge.api.throttles import FailedAttemptThrottle


class LoginAccountThrottle(FailedAttemptThrottle):
    """Failed logins per account (THROTTLE_LOGIN_ACCOUNT), keyed on the normalised email, whichever
    address they come from. Past the limit even the right password is refused until the window ends."""

    scope = "login_account"

    def get_ident_value(self, request) -> str | None:
        data = request.data
        email = data.get("email") if hasattr(data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        return email.strip().lower()
