import assert from "node:assert/strict";
import { test } from "node:test";

import { createOutbox, newClientId } from "../src/outbox.js";
import { createStore } from "../src/storage.js";
import { MemoryStorage } from "./fakes.js";

const ids = () => {
  let n = 0;
  return () => `c-${++n}`;
};

test("client ids are random UUIDs, also without crypto.randomUUID", () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  assert.match(newClientId(), uuid);
  const bare = { getRandomValues: (bytes) => globalThis.crypto.getRandomValues(bytes) };
  const a = newClientId(bare);
  assert.match(a, uuid);
  assert.notEqual(a, newClientId(bare));
});

test("pending messages keep their order and their client_id; an ack removes one", () => {
  const outbox = createOutbox(createStore(new MemoryStorage(), "pk"), { makeId: ids() });
  outbox.add("one");
  outbox.add("two");
  outbox.add("three");
  assert.deepEqual(
    outbox.pending().map((m) => [m.client_id, m.text]),
    [
      ["c-1", "one"],
      ["c-2", "two"],
      ["c-3", "three"],
    ],
  );
  assert.equal(outbox.ack("c-2"), true);
  assert.equal(outbox.ack("c-2"), false, "a second ack for the same message changes nothing");
  assert.deepEqual(
    outbox.pending().map((m) => m.client_id),
    ["c-1", "c-3"],
  );
});

test("a reload finds the unacknowledged messages with their original client_id", () => {
  const backend = new MemoryStorage();
  const before = createOutbox(createStore(backend, "pk"));
  const { client_id } = before.add("typed before the reload");
  const after = createOutbox(createStore(backend, "pk"));
  assert.deepEqual(
    after.pending().map((m) => [m.client_id, m.text]),
    [[client_id, "typed before the reload"]],
  );
  after.ack(client_id);
  assert.deepEqual(createOutbox(createStore(backend, "pk")).pending(), []);
  assert.equal(backend.map.size, 0, "an empty outbox leaves nothing in storage");
});

test("a corrupt stored outbox is read as far as it makes sense", () => {
  const backend = new MemoryStorage({
    "parley:pk:outbox": JSON.stringify([{ client_id: "ok", text: "kept" }, { text: 1 }, "x", null]),
  });
  assert.deepEqual(
    createOutbox(createStore(backend, "pk")).pending().map((m) => m.client_id),
    ["ok"],
  );
  backend.setItem("parley:pk:outbox", '{"not": "a list"}');
  assert.deepEqual(createOutbox(createStore(backend, "pk")).pending(), []);
});
