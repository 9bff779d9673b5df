"""A quick, in-process comparison of the ways a group message can reach N sockets of one worker
through Redis: channels-redis' RedisChannelLayer, its RedisPubSubChannelLayer, and Parley's
fan-out (widget.fanout). No sockets: it measures the delivery path up to the member.

    PYTHONPATH=.:platform DJANGO_SETTINGS_MODULE=config.settings.test \
        .venv/bin/python bench/layers.py [--members 100] [--messages 200]

Figures are for docs/REALTIME.md ("The channel layer: decision"); the socket-level benchmark is
`make bench`.
"""

import argparse
import asyncio
import time

import django

from config.embedded import database_url_ensure

# The test settings need a DATABASE_URL: the embedded PostgreSQL's when none is given.
database_url_ensure()
django.setup()

from channels_redis.core import RedisChannelLayer  # noqa: E402
from channels_redis.pubsub import RedisPubSubChannelLayer  # noqa: E402
from django.test import override_settings  # noqa: E402

from tests.support.redis import RedisServer  # noqa: E402
from widget.fanout.envelope import FRAME, Envelope  # noqa: E402
from widget.fanout.hub import Hub  # noqa: E402

TEXT = '{"type":"message","id":1,"text":"hello","author":{"kind":"visitor","id":"x"}}'


async def through_layer(layer, members: int, messages: int) -> float:
    channels = [await layer.new_channel() for _ in range(members)]
    for channel in channels:
        await layer.group_add("room", channel)
    received = 0

    async def consume(channel):
        nonlocal received
        for _ in range(messages):
            message = await layer.receive(channel)
            received += len(message["text"]) > 0

    consumers = [asyncio.create_task(consume(channel)) for channel in channels]
    await asyncio.sleep(0.2)  # subscriptions settle
    started = time.perf_counter()
    for _ in range(messages):
        await layer.group_send("room", {"type": "chat.message", "text": TEXT})
    await asyncio.wait_for(asyncio.gather(*consumers), timeout=120)
    elapsed = time.perf_counter() - started
    assert received == members * messages
    await layer.flush()
    return members * messages / elapsed


class Member:
    def __init__(self, index: int, done: asyncio.Event, target: int, counter: list):
        self.member_id = f"m{index}"
        self.done, self.target, self.counter = done, target, counter

    async def push(self, text: str, message_id: int, frame_type: str) -> None:
        self.counter[0] += 1
        if self.counter[0] == self.target:
            self.done.set()

    async def close_from_server(self, code: int) -> None:
        pass


async def through_fanout(url: str, members: int, messages: int) -> float:
    with override_settings(PARLEY_FANOUT="redis", REDIS_URL=url):
        receiver, sender = Hub(), Hub()  # two "workers": delivery crosses Redis
        done, counter = asyncio.Event(), [0]
        for index in range(members):
            await receiver.join("room", Member(index, done, members * messages, counter))
        await sender.join("other", Member(-1, asyncio.Event(), -1, [0]))
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        for _ in range(messages):
            sender.publish(Envelope("room", FRAME, TEXT, frame_type="message"))
        await asyncio.wait_for(done.wait(), timeout=120)
        elapsed = time.perf_counter() - started
        await receiver.aclose()
        await sender.aclose()
    return members * messages / elapsed


async def main(members: int, messages: int) -> None:
    server = RedisServer()
    try:
        hosts = [server.url]
        results = {
            "RedisChannelLayer": await through_layer(
                RedisChannelLayer(hosts=hosts, capacity=messages * 2), members, messages
            ),
            "RedisPubSubChannelLayer": await through_layer(
                RedisPubSubChannelLayer(hosts=hosts), members, messages
            ),
            "widget.fanout": await through_fanout(server.url, members, messages),
        }
    finally:
        server.stop()
    for name, rate in results.items():
        print(f"{name:26} {rate:10,.0f} deliveries/s ({members} members x {messages} messages)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--messages", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.members, arguments.messages))
