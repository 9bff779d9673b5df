"""Prometheus metrics of a Parley process, served at /metrics.

Each daphne worker keeps its own registry; Prometheus scrapes every worker (one target per pod or
per worker port) and sums. The `tenant` label carries the tenant id: one series per tenant that
has open sockets on the worker (`OpenSockets` removes it with the tenant's last socket), which
stays small next to the number of sockets.

No label takes a value as a client sent it: each one a client can choose would let anyone add
series without bound (`FOO1`, `FOO2`... as HTTP methods). Methods are folded into a known set
(`method_label`), frame types into the types of the contract plus "unknown".

Hot paths (a frame in, a frame out) take an already-resolved child from `Children` instead of
calling `.labels()`, which builds and locks a label dict on every call.
"""

import redis
from django.db import Error as DatabaseError
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

SOCKETS_OPEN = Gauge("parley_sockets_open", "Open WebSocket connections.", ["tenant", "kind"])
FRAMES_IN = Counter("parley_frames_in_total", "Frames received from clients.", ["kind", "type"])
FRAMES_OUT = Counter("parley_frames_out_total", "Frames sent to clients.", ["kind", "type"])
HANDSHAKES_REFUSED = Counter(
    "parley_handshakes_refused_total", "WebSocket handshakes refused, by reason.", ["reason"]
)
FANOUT_SECONDS = Histogram(
    "parley_fanout_seconds",
    "Time from a group message being published (after its commit) to its delivery to this "
    "worker's local members.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
BACKEND_ERRORS = Counter(
    "parley_backend_errors_total", "Errors talking to a backing service.", ["backend"]
)
for _backend in ("database", "redis"):  # exposed at 0, so an alert can compare with the past
    BACKEND_ERRORS.labels(_backend)
FANOUT_OUTBOX_FRAMES = Gauge(
    "parley_fanout_outbox_frames", "Group messages waiting to be published to Redis."
)
FANOUT_OUTBOX_BYTES = Gauge(
    "parley_fanout_outbox_bytes", "Bytes of the group messages waiting to be published to Redis."
)
FANOUT_UNPUBLISHED = Counter(
    "parley_fanout_unpublished_total",
    "Group messages not published to Redis (the outbox was full, or Redis kept failing); the "
    "sockets of their groups on other workers are closed to resume.",
)
FANOUT_UNDECODABLE = Counter(
    "parley_fanout_undecodable_total", "Messages from Redis pub/sub skipped as undecodable."
)
HTTP_REQUESTS = Counter(
    "parley_http_requests_total", "HTTP requests answered.", ["method", "status"]
)
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    """The `method` label of an HTTP request: any method outside the known set is "other"."""
    return method if method in HTTP_METHODS else "other"


class OpenSockets:
    """`parley_sockets_open` by tenant and kind, whose series lives while the worker has a socket
    of it: a tenant's series is removed with its last socket here, or every tenant that ever
    connected would keep one, forever. Used on the event loop only, so a socket opening never
    races the removal of its tenant's series."""

    def __init__(self, gauge: Gauge):
        self._gauge = gauge
        self._open: dict[tuple[str, str], list] = {}  # (tenant, kind) -> [count, child]

    def opened(self, tenant: str, kind: str) -> None:
        entry = self._open.get((tenant, kind))
        if entry is None:
            entry = self._open[tenant, kind] = [0, self._gauge.labels(tenant, kind)]
        entry[0] += 1
        entry[1].inc()

    def closed(self, tenant: str, kind: str) -> None:
        entry = self._open[tenant, kind]
        entry[0] -= 1
        if entry[0]:
            entry[1].dec()
        else:
            del self._open[tenant, kind]
            self._gauge.remove(tenant, kind)


OPEN_SOCKETS = OpenSockets(SOCKETS_OPEN)


class Children:
    """The children of one labelled metric for a fixed first label, resolved once per value."""

    def __init__(self, metric, *prefix: str):
        self._metric = metric
        self._prefix = prefix
        self._children: dict[str, object] = {}

    def __getitem__(self, value: str):
        child = self._children.get(value)
        if child is None:
            child = self._children[value] = self._metric.labels(*self._prefix, value)
        return child


def backend_error(error: BaseException) -> str | None:
    """Count an error of the database or Redis and name its backend (None for anything else,
    which is not a backend error: a bug, worth its traceback)."""
    if isinstance(error, DatabaseError):
        BACKEND_ERRORS.labels("database").inc()
        return "database"
    if isinstance(error, redis.RedisError):
        BACKEND_ERRORS.labels("redis").inc()
        return "redis"
    return None


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
