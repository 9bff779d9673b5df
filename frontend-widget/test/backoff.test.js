import assert from "node:assert/strict";
import { test } from "node:test";

import { createBackoff } from "../src/backoff.js";

test("the ceiling doubles from 0.5 s and stops at 30 s", () => {
  const backoff = createBackoff({ random: () => 0.999999 });
  const delays = Array.from({ length: 10 }, () => backoff.next());
  assert.deepEqual(
    delays.map((d) => Math.round(d / 10) * 10),
    [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000],
  );
});

test("full jitter: every delay is anywhere between 0 and the ceiling", () => {
  const zero = createBackoff({ random: () => 0 });
  assert.deepEqual([zero.next(), zero.next(), zero.next()], [0, 0, 0]);
  const half = createBackoff({ random: () => 0.5 });
  assert.deepEqual([half.next(), half.next(), half.next()], [250, 500, 1000]);
  const real = createBackoff();
  for (let i = 0; i < 200; i++) {
    const delay = real.next();
    assert.ok(delay >= 0 && delay < 30000, String(delay));
  }
});

test("a success resets the sequence", () => {
  const backoff = createBackoff({ random: () => 0.999999 });
  for (let i = 0; i < 5; i++) backoff.next();
  assert.equal(backoff.attempt, 5);
  backoff.reset();
  assert.equal(backoff.attempt, 0);
  assert.ok(backoff.next() < 500);
});
