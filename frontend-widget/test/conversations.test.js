import assert from "node:assert/strict";
import { test } from "node:test";

import { listTime } from "../src/conversations.js";

test("a conversation of today shows its time, an older one its date", () => {
  const now = new Date(2026, 11, 4, 18, 30);
  assert.equal(listTime(new Date(2026, 11, 4, 9, 5).toISOString(), "en-GB", now), "09:05");
  assert.equal(listTime(new Date(2026, 10, 28, 9, 5).toISOString(), "en-GB", now), "28 Nov");
  assert.equal(listTime(new Date(2026, 10, 28, 9, 5).toISOString(), "de", now), "28. Nov.");
});

test("a missing or unreadable time shows nothing", () => {
  assert.equal(listTime(undefined, "en"), "");
  assert.equal(listTime(null, "en"), "");
  assert.equal(listTime("yesterday-ish", "en"), "");
});
