"""Who is acting: the member signed in to the dashboard, an API key, an operator, a command.

The audit logs (`tenants.audit`) record the actor of every sensitive change. The code that knows
who is acting (a middleware, the API's authentication, the operator's console, a management
command) says so once with `acting_as`; the services that make the changes read
`current_actor()` and need no extra parameter. A context variable: each request, task and thread
has its own, and nothing outside those entry points ever sets it.
"""

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # "member", "api_key", "operator", "command" or "system"
    label: str  # an email, an API key's name and prefix, a command line
    address: str = ""  # the client's address, when a client made the request


SYSTEM = Actor("system", "Parley")
_current: contextvars.ContextVar[Actor] = contextvars.ContextVar("parley_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def act_as(actor: Actor) -> None:
    """Set the actor for the rest of this context (an API call's authentication, which has no
    block to wrap; its request's context ends with the request)."""
    _current.set(actor)
