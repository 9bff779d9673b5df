"""Arbitrary frames thrown at a chat socket: every answer is a documented frame or close code,
never a server error, and a well-behaved visitor in the same room keeps chatting."""

import asyncio
import json

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenants.site_directory import site_cache_clear
from tests.support.factories import make_site, make_visitor
from tests.support.sockets import expect, joined, stop_realtime

pytestmark = pytest.mark.django_db(transaction=True)

ERROR_CODES = {"bad_request", "too_large", "rate_limited", "unknown_type", "plan_limit"}
SERVER_FRAMES = {"error", "pong", "ack", "message", "typing", "read", "history"}
CLOSE_CODES = {4400, 4429}  # what a client's own frames may earn it once authenticated

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
frame_types = st.sampled_from(["auth", "message", "typing", "read", "history", "ping"]) | st.text(
    max_size=12
)
objects = st.fixed_dictionaries(
    {"type": frame_types | json_values},
    optional={
        "text": st.text(max_size=50) | st.just(" " * 10) | st.just("y" * 4001) | json_values,
        "client_id": st.text(max_size=70) | json_values,
        "state": json_values,
        "up_to": st.integers() | json_values,
        "before": st.integers() | json_values,
        "limit": st.integers(min_value=-5, max_value=200) | json_values,
        "token": json_values,
        "since": json_values,
    },
)
raw_frames = st.one_of(
    objects.map(lambda frame: ("text", json.dumps(frame))),
    json_values.map(lambda value: ("text", json.dumps(value))),
    st.text(min_size=1, max_size=100).map(lambda text: ("text", text)),
    st.binary(min_size=1, max_size=50).map(lambda data: ("bytes", data)),
    st.just(("text", json.dumps({"type": "message", "client_id": "c", "text": "z" * 17000}))),
)


@pytest.fixture
def room(tenant_a):
    site_cache_clear()
    site = make_site(tenant_a, public_rooms=True)
    return site, make_visitor(site, room="fuzz"), make_visitor(site, room="fuzz")


async def check_answers(socket) -> None:
    """Read what the server says until the sentinel pong or a close; check each answer."""
    async with asyncio.timeout(10):
        while True:
            output = await socket.receive_output(timeout=10)
            if output["type"] == "websocket.close":
                assert output.get("code") in CLOSE_CODES, output
                return
            frame = json.loads(output["text"])
            assert frame["type"] in SERVER_FRAMES, frame
            if frame["type"] == "error":
                assert frame["code"] in ERROR_CODES, frame
                assert isinstance(frame["message"], str)
            if frame["type"] == "pong":
                return


async def scenario(site, attacker, bystander, frames) -> None:
    good = await joined(site, bystander)
    bad = await joined(site, attacker)
    for kind, data in frames:
        if kind == "text":
            await bad.send_to(text_data=data)
        else:
            await bad.send_to(bytes_data=data)
    await bad.send_json_to({"type": "ping"})
    await check_answers(bad)

    await good.send_json_to({"type": "ping"})
    assert await expect(good, lambda f: f["type"] == "pong")
    await good.send_json_to({"type": "message", "client_id": "good", "text": "still here"})
    assert await expect(good, lambda f: f["type"] == "ack")
    await bad.disconnect()
    await good.disconnect()
    await stop_realtime()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frames=st.lists(raw_frames, min_size=1, max_size=6))
def test_arbitrary_frames_get_documented_answers_only(room, frames):
    site, attacker, bystander = room
    generous = {"FRAME_BURST": 1000, "VISITOR_FRAME_BURST": 1000}
    with override_settings(PARLEY_WS={**django_settings.PARLEY_WS, **generous}):
        asyncio.run(scenario(site, attacker, bystander, frames))
