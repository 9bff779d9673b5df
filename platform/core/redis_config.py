"""Where Redis is, from one environment variable (`REDIS_URL`), in one of three shapes:

- one server: `redis://[:password@]host:6379/0`, `rediss://…` (TLS) or `unix:///path/redis.sock`;
- several servers, comma-separated: `redis://r1:6379/0,redis://r2:6379/0`. The channel layer
  shards its channels and groups over all of them (channels-redis' consistent hashing); every
  other user (the fan-out, the cache, the connection counters) uses the first one, which must
  therefore be the one that is kept highly available;
- Sentinel: `redis+sentinel://[:password@]s1:26379,s2:26379,s3:26379/<master name>[/<db>]`.
  Every user asks the sentinels for the current master and follows a failover.

See docs/REALTIME.md (Redis) and infra/RUNBOOK.md.
"""

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio as aredis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel, SentinelConnectionPool

SENTINEL_SCHEME = "redis+sentinel"
PLAIN_SCHEMES = ("redis", "rediss", "unix")


class RedisConfigError(ValueError):
    """REDIS_URL is not in one of the documented shapes."""


@dataclass(frozen=True)
class RedisTarget:
    urls: tuple[str, ...] = ()  # plain servers (the first is the primary)
    sentinels: tuple[tuple[str, int], ...] = ()
    master_name: str = ""
    db: int = 0
    password: str | None = None

    @property
    def is_sentinel(self) -> bool:
        return bool(self.sentinels)

    @property
    def primary_url(self) -> str:
        """For clients that take a URL only (Django's cache): a plain server's URL."""
        if self.is_sentinel:
            raise RedisConfigError("a Sentinel target has no fixed URL")
        return self.urls[0]

    def channel_layer_hosts(self) -> list[dict]:
        """channels-redis `hosts`: every shard, or the Sentinel master."""
        if self.is_sentinel:
            return [
                {
                    "sentinels": list(self.sentinels),
                    "master_name": self.master_name,
                    "db": self.db,
                    "password": self.password,
                    "sentinel_kwargs": {"password": self.password} if self.password else None,
                }
            ]
        return [{"address": url} for url in self.urls]

    def async_client(self, **pool_options) -> aredis.Redis:
        """An asyncio client of the primary (the Sentinel master, followed across failovers)."""
        if self.is_sentinel:
            pool_options.pop("timeout", None)  # a BlockingConnectionPool option
            sentinel = AsyncSentinel(
                list(self.sentinels),
                sentinel_kwargs={"password": self.password} if self.password else None,
            )
            return sentinel.master_for(
                self.master_name, password=self.password, db=self.db, **pool_options
            )
        max_connections = pool_options.pop("max_connections", 64)
        pool = aredis.BlockingConnectionPool.from_url(
            self.urls[0], max_connections=max_connections, **pool_options
        )
        return aredis.Redis(connection_pool=pool)

    def sync_client(self, **pool_options) -> redis.Redis:
        if self.is_sentinel:
            pool_options.pop("timeout", None)
            return sentinel_manager(self).master_for(
                self.master_name, password=self.password, db=self.db, **pool_options
            )
        max_connections = pool_options.pop("max_connections", 32)
        pool = redis.BlockingConnectionPool.from_url(
            self.urls[0], max_connections=max_connections, **pool_options
        )
        return redis.Redis(connection_pool=pool)


def _host_port(part: str, default_port: int) -> tuple[str, int]:
    host, _, port = part.rpartition(":") if part.count(":") == 1 else (part, "", "")
    host = host or part
    try:
        return host, int(port) if port else default_port
    except ValueError:
        raise RedisConfigError(f"bad port in {part!r}") from None


def _parse_sentinel(value: str) -> RedisTarget:
    rest = value[len(SENTINEL_SCHEME) + 3 :]
    netloc, _, path = rest.partition("/")
    password = None
    if "@" in netloc:
        credentials, netloc = netloc.rsplit("@", 1)
        password = unquote(credentials.partition(":")[2] or credentials) or None
    hosts = [part for part in netloc.split(",") if part]
    if not hosts:
        raise RedisConfigError("a Sentinel URL needs at least one sentinel host")
    parts = [part for part in path.split("/") if part]
    if not parts or len(parts) > 2:
        raise RedisConfigError("a Sentinel URL is redis+sentinel://hosts/<master name>[/<db>]")
    try:
        db = int(parts[1]) if len(parts) == 2 else 0
    except ValueError:
        raise RedisConfigError(f"bad database number {parts[1]!r}") from None
    return RedisTarget(
        sentinels=tuple(_host_port(host, 26379) for host in hosts),
        master_name=unquote(parts[0]),
        db=db,
        password=password,
    )


def parse_redis_url(value: str) -> RedisTarget | None:
    """The target REDIS_URL names; None when it is empty (no Redis: a single process)."""
    value = value.strip()
    if not value:
        return None
    if value.startswith(SENTINEL_SCHEME + "://"):
        return _parse_sentinel(value)
    urls = tuple(part.strip() for part in value.split(",") if part.strip())
    for url in urls:
        if urlsplit(url).scheme not in PLAIN_SCHEMES:
            raise RedisConfigError(f"unsupported Redis URL scheme in {url.split('@')[-1]!r}")
    return RedisTarget(urls=urls)


def sentinel_manager(target: RedisTarget) -> Sentinel:
    return Sentinel(
        list(target.sentinels),
        sentinel_kwargs={"password": target.password} if target.password else None,
    )


class SentinelCachePool(SentinelConnectionPool):
    """Django's Redis cache with a Sentinel URL as its LOCATION (settings: CACHES)."""

    @classmethod
    def from_url(cls, url: str, **options) -> "SentinelCachePool":
        target = parse_redis_url(url)
        return cls(
            target.master_name,
            sentinel_manager(target),
            password=target.password,
            db=target.db,
            **options,
        )
