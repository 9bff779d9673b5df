import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CLOSE_POLICY,
  MAX_TEXT_LENGTH,
  advisedDelay,
  authFrame,
  chatSocketUrl,
  checkText,
  closeAction,
  messageFrame,
  parseFrame,
} from "../src/protocol.js";

test("client frames are the contract's JSON objects", () => {
  assert.deepEqual(JSON.parse(authFrame("tok")), { type: "auth", token: "tok" });
  assert.deepEqual(JSON.parse(authFrame("tok", 42)), { type: "auth", token: "tok", since: 42 });
  assert.deepEqual(JSON.parse(messageFrame("c-1", "hi")), {
    type: "message",
    client_id: "c-1",
    text: "hi",
  });
});

test("server frames outside the contract are dropped, not thrown", () => {
  for (const data of ["not json", "[]", "null", '{"type":"nope"}', '{"no":"type"}', 42]) {
    assert.equal(parseFrame(data), null, String(data));
  }
  assert.equal(parseFrame('{"type":"ack","client_id":"c"}'), null, "ack without id");
  assert.equal(parseFrame('{"type":"message","id":"7","text":"x"}'), null, "string id");
});

test("a message frame keeps its fields and gets a safe author", () => {
  const frame = parseFrame(
    JSON.stringify({
      type: "message",
      id: 7,
      client_id: "c-1",
      text: "<b>hi</b>",
      ts: "2026-11-24T10:00:00Z",
      author: { kind: "agent", id: 3, name: "Anna" },
    }),
  );
  assert.deepEqual(frame, {
    type: "message",
    id: 7,
    client_id: "c-1",
    text: "<b>hi</b>",
    ts: "2026-11-24T10:00:00Z",
    author: { kind: "agent", id: "3", name: "Anna" },
    attachments: [],
  });
  const odd = parseFrame('{"type":"message","id":1,"text":"x","author":{"kind":"root"}}');
  assert.equal(odd.author.kind, "system");
});

test("ready keeps only well-formed messages", () => {
  const frame = parseFrame(
    JSON.stringify({
      type: "ready",
      room: "r1",
      visitor_id: "v1",
      has_more: true,
      messages: [{ id: 1, text: "a", author: { kind: "visitor", id: "v1" } }, { id: "x" }, null],
    }),
  );
  assert.equal(frame.messages.length, 1);
  assert.equal(frame.has_more, true);
});

test("text is trimmed and held to the server's limits", () => {
  assert.deepEqual(checkText("  hello \n"), { text: "hello" });
  assert.deepEqual(checkText("   "), { error: "empty" });
  assert.deepEqual(checkText("a".repeat(MAX_TEXT_LENGTH)), { text: "a".repeat(MAX_TEXT_LENGTH) });
  assert.deepEqual(checkText("a".repeat(MAX_TEXT_LENGTH + 1)), { error: "too_long" });
  // 4000 emoji are 4000 characters for the server, 8000 UTF-16 units for JavaScript.
  assert.ok(checkText("😀".repeat(MAX_TEXT_LENGTH)).text);
  // Control characters escape to 6 bytes each: 4000 of them exceed the 16 KiB frame limit.
  assert.deepEqual(checkText(`a${"\u0001".repeat(3998)}a`), { error: "too_long" });
});

test("every close code of the contract has its action", () => {
  assert.deepEqual(CLOSE_POLICY, {
    1000: "stay",
    1001: "now",
    1012: "now",
    1011: "backoff",
    4400: "backoff",
    4401: "renew",
    4402: "slow",
    4403: "stay",
    4408: "now",
    4423: "slow",
    4429: "advised",
  });
  assert.equal(closeAction(1006), "backoff", "a dropped network backs off");
  assert.equal(closeAction(4999), "backoff");
});

test("a 4429 reason advises a delay in the forms the widget accepts", () => {
  assert.equal(advisedDelay("12"), 12);
  assert.equal(advisedDelay("retry_after=3.5"), 3.5);
  assert.equal(advisedDelay('{"retry_after": 7}'), 7);
  assert.equal(advisedDelay("slow down"), null);
  assert.equal(advisedDelay(""), null);
});

test("the socket URL names the room and the site key", () => {
  const base = { baseUrl: "https://parley.example", siteKey: "pk_abc" };
  assert.equal(
    chatSocketUrl({ ...base, wsUrl: "wss://parley.example/ws/chat/conv1/?site_key=pk_abc", room: "conv1" }),
    "wss://parley.example/ws/chat/conv1/?site_key=pk_abc",
  );
  assert.equal(
    chatSocketUrl({ ...base, wsUrl: "wss://rt.parley.example", room: "lobby" }),
    "wss://rt.parley.example/ws/chat/lobby/?site_key=pk_abc",
  );
  assert.equal(
    chatSocketUrl({ ...base, wsUrl: null, room: "c2" }),
    "wss://parley.example/ws/chat/c2/?site_key=pk_abc",
  );
  assert.equal(
    chatSocketUrl({ baseUrl: "http://localhost:8000", siteKey: "pk_x", wsUrl: "", room: "c" }),
    "ws://localhost:8000/ws/chat/c/?site_key=pk_x",
  );
});

test("a message's files keep web links only, and a message frame names files by id", () => {
  const frame = parseFrame(
    JSON.stringify({
      type: "message",
      id: 8,
      text: "",
      author: { kind: "visitor", id: "v", name: "" },
      attachments: [
        { id: "a1", name: "cat.png", content_type: "image/png", size: 10, url: "https://p.test/files/x", thumbnail_url: "https://p.test/files/y" },
        { id: "a2", name: "evil", url: "javascript:alert(1)" },
        { id: "a3", name: "doc.pdf", size: 5, url: "http://p.test/files/z", thumbnail_url: "data:x" },
        "junk",
      ],
    }),
  );
  assert.deepEqual(
    frame.attachments.map((file) => [file.id, file.thumbnail_url]),
    [["a1", "https://p.test/files/y"], ["a3", null]],
  );
  assert.deepEqual(JSON.parse(messageFrame("c", "hi", [{ id: "a1" }, { id: "a3" }])), {
    type: "message",
    client_id: "c",
    text: "hi",
    attachments: ["a1", "a3"],
  });
  assert.equal("attachments" in JSON.parse(messageFrame("c", "hi")), false);
  assert.deepEqual(checkText("  ", { files: true }), { text: "" });
  assert.equal(checkText("  ").error, "empty");
});
