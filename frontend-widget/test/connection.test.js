import assert from "node:assert/strict";
import { test } from "node:test";

import { createConnection } from "../src/connection.js";
import { FakeClock, fakeWebSocketClass, flush } from "./fakes.js";

function setup({ random = () => 0.5, renew, since = undefined } = {}) {
  const clock = new FakeClock();
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const frames = [];
  const statuses = [];
  let token = "tok-1";
  const connection = createConnection({
    WebSocket: FakeWebSocket,
    timers: clock.timers,
    random,
    target: () => ({ url: "ws://parley/ws/chat/r1/?site_key=pk", token, since }),
    renew:
      renew ??
      (async () => {
        token = "tok-2";
      }),
    onFrame: (frame) => frames.push(frame),
    onStatus: (status, detail) => statuses.push([status, detail.code ?? null]),
  });
  const last = () => sockets[sockets.length - 1];
  const online = () => {
    last().accept();
    last().receive({ type: "ready", room: "r1", visitor_id: "v1", messages: [], has_more: false });
  };
  return { clock, sockets, frames, statuses, connection, last, online };
}

test("auth is the first frame, with since when resuming", async () => {
  const { connection, last, online, frames } = setup({ since: 41 });
  connection.start();
  last().accept();
  assert.deepEqual(last().sent, [{ type: "auth", token: "tok-1", since: 41 }]);
  assert.equal(connection.send('{"type":"typing","state":true}'), false, "nothing before ready");
  online();
  assert.equal(frames[0].type, "ready");
  assert.equal(connection.send('{"type":"typing","state":true}'), true);
});

// The contract's table, one row each: the delay before the next attempt after a good session.
const rows = [
  { code: 1000, reconnects: false, status: "closed" },
  { code: 4403, reconnects: false, status: "closed" },
  { code: 1001, delay: 0 },
  { code: 1012, delay: 0 },
  { code: 4408, delay: 0 },
  { code: 1011, delay: 250 }, // backoff, first step: 0.5 * 500 ms
  { code: 4400, delay: 250 },
  { code: 1006, delay: 250 },
  { code: 4402, delay: 45000, status: "limited" }, // slow: 30 s * (1 + 0.5)
  { code: 4429, reason: "retry_after=8", delay: 8500 }, // advised 8 s + 0.5 s jitter
];
for (const row of rows) {
  test(`close ${row.code}: ${row.reconnects === false ? "stays closed" : `retry after ${row.delay} ms`}`, async () => {
    const { clock, connection, sockets, last, online, statuses } = setup();
    connection.start();
    online();
    last().drop(row.code, row.reason ?? "");
    assert.equal(statuses.at(-1)[0], row.status ?? "offline");
    if (row.reconnects === false) {
      await clock.tick(120000);
      assert.equal(sockets.length, 1, "no new socket");
      assert.equal(statuses.at(-1)[1], row.code);
      return;
    }
    assert.deepEqual(clock.pendingDelays(), [row.delay]);
    await clock.tick(row.delay);
    assert.equal(sockets.length, 2, "reconnected");
  });
}

test("4429 without advice waits at least 5 s; an error frame's retry_after is advice", async () => {
  const first = setup({ random: () => 0 });
  first.connection.start();
  first.online();
  first.last().drop(4429, "");
  assert.deepEqual(first.clock.pendingDelays(), [5000]);

  const second = setup({ random: () => 0 });
  second.connection.start();
  second.online();
  second.last().receive({ type: "error", code: "rate_limited", message: "slow", retry_after: 12 });
  second.last().drop(4429, "");
  assert.deepEqual(second.clock.pendingDelays(), [12000]);
});

test("4401 gets a new session, then reconnects with the new token", async () => {
  const { clock, connection, last, online, sockets } = setup();
  connection.start();
  online();
  last().drop(4401, "expired");
  await clock.tick(0);
  assert.equal(sockets.length, 2);
  last().accept();
  assert.deepEqual(last().sent[0], { type: "auth", token: "tok-2" });
});

test("4401 whose new session is refused for good stays closed", async () => {
  const refusal = Object.assign(new Error("gone"), { fatal: true, code: "unknown_site_key" });
  const { clock, connection, last, online, sockets, statuses } = setup({
    renew: async () => {
      throw refusal;
    },
  });
  connection.start();
  online();
  last().drop(4401, "");
  await clock.tick(60000);
  assert.equal(sockets.length, 1);
  assert.deepEqual(statuses.at(-1), ["closed", 4401]);
});

test("a server that keeps closing 1012 before ready is not hammered: backoff grows", async () => {
  const { clock, connection, last, sockets } = setup({ random: () => 0.999 });
  connection.start();
  const delays = [];
  for (let i = 0; i < 5; i++) {
    last().accept();
    last().drop(1012, "");
    delays.push(clock.pendingDelays()[0]);
    await clock.tick(delays.at(-1));
  }
  assert.equal(sockets.length, 6);
  assert.deepEqual(delays, [499, 999, 1998, 3996, 7992]);
});

test("backoff starts over after a connection reaches ready", async () => {
  const { clock, connection, last, online } = setup({ random: () => 0.999 });
  connection.start();
  for (let i = 0; i < 3; i++) {
    last().drop(1006, "");
    await clock.tick(clock.pendingDelays()[0]);
  }
  assert.equal(connection.attempt, 3);
  online();
  assert.equal(connection.attempt, 0);
  last().drop(1011, "");
  assert.deepEqual(clock.pendingDelays(), [499]);
});

test("ping every 25 s; a missing pong means a dead socket and a reconnect", async () => {
  const { clock, connection, last, online, sockets, statuses } = setup();
  connection.start();
  online();
  await clock.tick(25000);
  assert.equal(last().sentOfType("ping").length, 1);
  last().receive({ type: "pong" });
  await clock.tick(25000);
  assert.equal(last().sentOfType("ping").length, 2);
  await clock.tick(10000); // no pong
  assert.equal(sockets[0].closedWith.code, 4000);
  assert.equal(statuses.at(-1)[0], "offline");
  await clock.tick(clock.pendingDelays()[0]);
  assert.equal(sockets.length, 2);
});

test("a socket that never gets to ready is given up after 15 s", async () => {
  const { clock, connection, sockets } = setup();
  connection.start();
  sockets[0].accept(); // opens, but no ready ever comes
  await clock.tick(15000);
  assert.ok(sockets[0].closedWith);
  await clock.tick(1000);
  assert.equal(sockets.length, 2);
});

test("stop closes with 1000 and nothing reconnects; networkBack skips the wait", async () => {
  const { clock, connection, last, online, sockets } = setup({ random: () => 0.999 });
  connection.start();
  online();
  last().drop(1006, "");
  await flush();
  connection.networkBack();
  assert.equal(sockets.length, 2, "reconnected without waiting");
  online();
  connection.stop();
  assert.deepEqual(sockets[1].closedWith, { code: 1000, reason: "closed by the page" });
  await clock.tick(120000);
  assert.equal(sockets.length, 2);
});

test("offline: the socket is dropped and the state is 'lost' at once; nothing retries quickly", async () => {
  const { clock, connection, last, online, sockets, statuses } = setup();
  connection.start();
  online();
  connection.networkLost();
  assert.deepEqual(sockets[0].closedWith, { code: 4000, reason: "offline" });
  assert.equal(statuses.at(-1)[0], "lost");
  assert.equal(connection.online, false);
  assert.equal(connection.send('{"type":"typing","state":true}'), false);
  // Attempts would only fail while the network is gone: the next one is a slow safety net.
  assert.ok(clock.pendingDelays()[0] >= 30000, String(clock.pendingDelays()));
  await clock.tick(29000);
  assert.equal(sockets.length, 1);
  // A late close event of the dropped socket changes nothing.
  sockets[0].drop(1006, "");
  assert.equal(statuses.at(-1)[0], "lost");
});

test("online: reconnects at once, whatever the backoff had reached", async () => {
  const { clock, connection, last, online, sockets, statuses } = setup({ random: () => 0.999 });
  connection.start();
  online();
  for (let i = 0; i < 6; i++) {
    last().drop(1006, "");
    await clock.tick(clock.pendingDelays()[0]);
  }
  assert.ok(connection.attempt >= 6);
  connection.networkLost();
  const before = sockets.length;
  connection.networkBack();
  assert.equal(sockets.length, before + 1, "a new socket without waiting");
  assert.equal(statuses.at(-1)[0], "offline");
  online();
  assert.equal(statuses.at(-1)[0], "online");
  assert.equal(connection.attempt, 0);
});

test("online while an attempt hangs: that attempt is replaced by a fresh one", async () => {
  const { clock, connection, sockets } = setup();
  connection.start(); // sockets[0] never opens (the network went away under it)
  connection.networkBack();
  assert.equal(sockets.length, 2);
  assert.deepEqual(sockets[0].closedWith, { code: 4000, reason: "network back" });
  sockets[0].drop(1006, ""); // its late close event is ignored
  await clock.tick(1000);
  assert.equal(sockets.length, 2);
});

test("online with a live socket: a ping checks it, no new socket", async () => {
  const { clock, connection, last, online, sockets } = setup();
  connection.start();
  online();
  connection.networkBack();
  assert.equal(sockets.length, 1);
  assert.equal(last().sentOfType("ping").length, 1);
  await clock.tick(5000); // no answer: dead
  assert.equal(sockets[0].closedWith.code, 4000);
});

test("a message unanswered for 3 s makes a ping; no answer 5 s later means a reconnect", async () => {
  const { clock, connection, last, online, sockets, statuses } = setup();
  connection.start();
  online();
  assert.equal(connection.send('{"type":"message"}', { awaitsReply: true }), true);
  await clock.tick(2999);
  assert.equal(last().sentOfType("ping").length, 0);
  await clock.tick(1);
  assert.equal(last().sentOfType("ping").length, 1);
  await clock.tick(5000);
  assert.equal(sockets[0].closedWith.code, 4000);
  assert.equal(statuses.at(-1)[0], "offline");
  await clock.tick(clock.pendingDelays()[0]);
  assert.equal(sockets.length, 2);
});

test("a message answered in time makes no ping", async () => {
  const { clock, connection, last, online } = setup();
  connection.start();
  online();
  connection.send('{"type":"message"}', { awaitsReply: true });
  await clock.tick(500);
  last().receive({ type: "ack", client_id: "c", id: 1, ts: 0 });
  await clock.tick(20000);
  assert.equal(last().sentOfType("ping").length, 0);
  await clock.tick(5000); // the keepalive's own ping comes at 25 s
  assert.equal(last().sentOfType("ping").length, 1);
});
