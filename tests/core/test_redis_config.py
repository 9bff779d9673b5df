"""REDIS_URL's three shapes: one server, shards, Sentinel (core/redis_config.py)."""

import pytest
import redis

from core.redis_config import RedisConfigError, SentinelCachePool, parse_redis_url


def test_empty_means_no_redis():
    assert parse_redis_url("") is None
    assert parse_redis_url("  ") is None


@pytest.mark.parametrize(
    "url", ["redis://cache:6379/0", "rediss://:pw@cache:6380/2", "unix:///run/redis.sock"]
)
def test_one_server(url):
    target = parse_redis_url(url)
    assert not target.is_sentinel
    assert target.urls == (url,)
    assert target.primary_url == url
    assert target.channel_layer_hosts() == [{"address": url}]


def test_a_comma_list_shards_the_channel_layer_and_the_rest_uses_the_first():
    target = parse_redis_url("redis://r1:6379/0, redis://r2:6379/0,")
    assert target.urls == ("redis://r1:6379/0", "redis://r2:6379/0")
    assert target.channel_layer_hosts() == [
        {"address": "redis://r1:6379/0"},
        {"address": "redis://r2:6379/0"},
    ]
    assert target.primary_url == "redis://r1:6379/0"


def test_sentinel_hosts_master_database_and_password():
    target = parse_redis_url("redis+sentinel://:s%40cret@s1:26379,s2,10.0.0.3:26380/parley/3")
    assert target.is_sentinel
    assert target.sentinels == (("s1", 26379), ("s2", 26379), ("10.0.0.3", 26380))
    assert (target.master_name, target.db, target.password) == ("parley", 3, "s@cret")
    (host,) = target.channel_layer_hosts()
    assert host["sentinels"] == [("s1", 26379), ("s2", 26379), ("10.0.0.3", 26380)]
    assert (host["master_name"], host["db"], host["password"]) == ("parley", 3, "s@cret")
    with pytest.raises(RedisConfigError):
        target.primary_url  # noqa: B018 (a Sentinel target has no fixed server)


def test_sentinel_defaults_to_database_0_without_password():
    target = parse_redis_url("redis+sentinel://sentinel:26379/mymaster")
    assert (target.master_name, target.db, target.password) == ("mymaster", 0, None)


def test_sentinel_clients_ask_the_sentinels_for_the_master():
    target = parse_redis_url("redis+sentinel://s1:26379/parley/1")
    client = target.sync_client(socket_timeout=5)
    pool = client.connection_pool
    assert isinstance(pool, redis.sentinel.SentinelConnectionPool)
    assert pool.service_name == "parley"
    assert pool.connection_kwargs["db"] == 1
    cache_pool = SentinelCachePool.from_url("redis+sentinel://s1:26379/parley/1")
    assert cache_pool.service_name == "parley"


@pytest.mark.parametrize(
    "url",
    [
        "http://cache:6379",
        "redis://ok:6379,memcached://no:11211",
        "redis+sentinel:///parley",
        "redis+sentinel://s1:26379/",
        "redis+sentinel://s1:26379/parley/x",
        "redis+sentinel://s1:port/parley",
        "redis+sentinel://s1/parley/0/extra",
    ],
)
def test_other_shapes_are_refused(url):
    with pytest.raises(RedisConfigError):
        parse_redis_url(url)


def test_a_refusal_does_not_repeat_the_password():
    with pytest.raises(RedisConfigError) as refused:
        parse_redis_url("memcached://:hunter2@cache:11211")
    assert "hunter2" not in str(refused.value)
