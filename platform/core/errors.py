"""Errors a user of Parley can see, each with its documented code (PROTOCOL.md, Errors).

One hierarchy for every surface: an HTTP endpoint answers `http_status` with
`{"error": {"code", "message"}}` (plus `retry_after` on 429); a socket sends an `error` frame with
the same code, or closes with `close_code` when the error ends the connection. Raise these from
services and selectors; the API layer and the consumers translate them in one place each.
"""


class ParleyError(Exception):
    code = "bad_request"
    http_status = 400
    close_code = 4400
    default_message = "The request is not valid."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None):
        self.message = message or self.default_message
        self.retry_after = retry_after
        super().__init__(self.message)

    def as_body(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.retry_after is not None:
            body["retry_after"] = self.retry_after
        return {"error": body}


class BadRequest(ParleyError):
    pass


class InvalidForm(ParleyError):
    """A form a visitor filled in (pre-chat, offline) was refused: `fields` names each field at
    fault with what is wrong, so the widget shows it beside the field."""

    code = "invalid_form"
    default_message = "Some answers are missing or not valid."

    def __init__(self, fields: dict[str, str], message: str | None = None):
        self.fields = fields
        super().__init__(message or "; ".join(f"{key}: {text}" for key, text in fields.items()))

    def as_body(self) -> dict:
        body = super().as_body()
        body["error"]["fields"] = self.fields
        return body


class InvalidJson(ParleyError):
    code = "invalid_json"
    default_message = "The body is not valid JSON."


class PayloadTooLarge(ParleyError):
    code = "payload_too_large"
    http_status = 413
    default_message = "The body is too large."


class UnsupportedType(ParleyError):
    """An uploaded file whose type (told from its bytes) the site does not accept."""

    code = "unsupported_type"
    http_status = 415
    default_message = "This type of file is not accepted here."


class LinkExpired(ParleyError):
    """A signed link (a file's URL) past its lifetime: ask for a fresh one."""

    code = "link_expired"
    http_status = 410
    default_message = "This link has expired."


class UnknownSiteKey(ParleyError):
    code = "unknown_site_key"
    http_status = 404
    close_code = 4403
    default_message = "No live site has this site key."


class OriginNotAllowed(ParleyError):
    code = "origin_not_allowed"
    http_status = 403
    close_code = 4403
    default_message = "This page's origin is not in the site's allowed origins."


class InvalidToken(ParleyError):
    code = "invalid_token"
    http_status = 401
    close_code = 4401
    default_message = "The token is missing, invalid or expired."


class IdentityRequired(ParleyError):
    code = "identity_required"
    http_status = 401
    close_code = 4401
    default_message = "This site requires a verified user identity."


class IdentityInvalid(ParleyError):
    code = "identity_invalid"
    http_status = 401
    close_code = 4401
    default_message = "The user identity hash does not match."


class ConsentRequired(ParleyError):
    code = "consent_required"
    http_status = 403
    close_code = 4403
    default_message = "This site asks the visitor's consent first: send consent: true once given."


class NotFound(ParleyError):
    code = "not_found"
    http_status = 404
    close_code = 4403
    default_message = "Not found."


class Forbidden(ParleyError):
    code = "forbidden"
    http_status = 403
    close_code = 4403
    default_message = "You may not do this."


class Conflict(ParleyError):
    """The change would break a rule of uniqueness (a canned reply's shortcut taken, say)."""

    code = "conflict"
    http_status = 409
    default_message = "This conflicts with something that exists already."


class PlanLimit(ParleyError):
    code = "plan_limit"
    http_status = 402
    close_code = 4402
    default_message = "The plan's limit is reached."


class TenantSuspended(ParleyError):
    """The installation's operator suspended the tenant: its widget, sockets and API keys stop
    until it is resumed; its dashboard stays readable."""

    code = "tenant_suspended"
    http_status = 403
    close_code = 4423
    default_message = "This account is suspended; its chat is unavailable."


class RateLimited(ParleyError):
    code = "rate_limited"
    http_status = 429
    close_code = 4429
    default_message = "Too many requests; retry later."


class TooLarge(ParleyError):
    """A socket frame's field is over its documented size (the frame itself fits in 16 KiB)."""

    code = "too_large"
    http_status = 413
    default_message = "The text is too long."


class UnknownType(ParleyError):
    code = "unknown_type"
    default_message = "This frame type is not part of the protocol."


class MethodNotAllowed(ParleyError):
    code = "method_not_allowed"
    http_status = 405
    default_message = "This method is not allowed here."


class InternalError(ParleyError):
    code = "internal_error"
    http_status = 500
    close_code = 1011
    default_message = "Something went wrong on our side; it has been logged."


class Unavailable(ParleyError):
    """The worker cannot take the request now (every HTTP thread busy, a database lock or
    statement past its timeout); the same request may succeed a moment later."""

    code = "unavailable"
    http_status = 503
    close_code = 1013
    default_message = "The service is busy; retry shortly."


class BillingNotConfigured(ParleyError):
    code = "billing_not_configured"
    http_status = 503
    default_message = "Billing is not configured on this Parley installation."


class PaymentProviderError(ParleyError):
    code = "payment_provider_error"
    http_status = 502
    default_message = "The payment provider could not be reached; try again later."
