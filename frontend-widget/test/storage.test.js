import assert from "node:assert/strict";
import { test } from "node:test";

import { createStore, pageStorage } from "../src/storage.js";
import { MemoryStorage } from "./fakes.js";

test("values are kept per site key", () => {
  const backend = new MemoryStorage();
  const a = createStore(backend, "pk_a");
  const b = createStore(backend, "pk_b");
  a.set("session", { token: "ta" });
  b.set("session", { token: "tb" });
  assert.deepEqual(a.get("session"), { token: "ta" });
  assert.deepEqual(b.get("session"), { token: "tb" });
  assert.equal(backend.getItem("parley:pk_a:session"), '{"token":"ta"}');
  a.remove("session");
  assert.equal(a.get("session"), null);
  assert.deepEqual(b.get("session"), { token: "tb" });
});

test("corrupt JSON reads as the fallback", () => {
  const backend = new MemoryStorage({ "parley:pk_a:session": "{not json" });
  assert.equal(createStore(backend, "pk_a").get("session", "none"), "none");
});

test("a storage that throws (privacy mode, full quota) falls back to memory", () => {
  const hostile = {
    getItem() {
      throw new Error("SecurityError");
    },
    setItem() {
      throw new Error("QuotaExceededError");
    },
    removeItem() {
      throw new Error("SecurityError");
    },
  };
  const store = createStore(hostile, "pk_a");
  assert.equal(store.get("x", 1), 1);
  store.set("x", 2);
  assert.equal(store.get("x"), 2);
  store.remove("x");
  assert.equal(store.get("x", 3), 3);
  assert.equal(createStore(null, "pk_a").get("y", 4), 4);
});

test("pageStorage gives null where localStorage cannot be used", () => {
  const throwing = {
    get localStorage() {
      throw new Error("SecurityError");
    },
  };
  assert.equal(pageStorage(throwing), null);
  const storage = new MemoryStorage();
  assert.equal(pageStorage({ localStorage: storage }), storage);
  assert.equal(storage.map.size, 0, "nothing written to find out");
});
