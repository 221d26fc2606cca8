"""Domain errors services raise; the API layer turns them into problem+json responses.

Services never import DRF: they raise these, and `evcharge.api.errors` maps each to its status.
"""


class DomainError(Exception):
    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.code = code


class InvalidInput(DomainError):
    status, title, type_slug = 400, "Invalid input", "invalid-input"


class NotAllowed(DomainError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class NotFound(DomainError):
    status, title, type_slug = 404, "Not found", "not-found"


class Conflict(DomainError):
    status, title, type_slug = 409, "Conflict", "conflict"


class PreconditionFailed(DomainError):
    status, title, type_slug = 412, "Precondition failed", "precondition-failed"


class BusinessRuleViolation(DomainError):
    status, title, type_slug = 422, "Refused by a business rule", "business-rule"
