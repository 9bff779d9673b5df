import assert from "node:assert/strict";
import { test } from "node:test";

import { findEmoji, withRecent } from "../src/emoji_picker.js";
import { emojiPicker as de } from "../src/strings/de.js";
import { emojiPicker as en } from "../src/strings/en.js";
import { emojiPicker as es } from "../src/strings/es.js";
import { emojiPicker as fr } from "../src/strings/fr.js";

const ENTRIES = [
  ["😀", "grinning face", "cheerful face grin happy smile"],
  ["🦚", "peacock", "bird ostentatious proud"],
  ["🪼", "jellyfish", "jelly sea tentacles"],
  ["⛺", "tent", "camping"],
  ["🎪", "circus tent", "circus tent"],
  ["👍️", "thumbs up", "+1 hand thumb up yes"],
];

test("a search finds the emoji each of its words begins a word of, those so named first", () => {
  assert.deepEqual(findEmoji(ENTRIES, "tent").map(([emoji]) => emoji), ["⛺", "🎪", "🪼"]);
  assert.deepEqual(findEmoji(ENTRIES, "  Happy  FACE ").map(([emoji]) => emoji), ["😀"]);
  assert.deepEqual(findEmoji(ENTRIES, "thu").map(([emoji]) => emoji), ["👍️"]);
  assert.deepEqual(findEmoji(ENTRIES, "+1").map(([emoji]) => emoji), ["👍️"]);
  assert.deepEqual(findEmoji(ENTRIES, "snowman"), []);
  assert.equal(findEmoji(ENTRIES, "c", 1).length, 1);
});

test("the recently used keep the latest first, once, 24 at most", () => {
  assert.deepEqual(withRecent(null, "😀"), ["😀"]);
  assert.deepEqual(withRecent(["⛺", "😀"], "😀"), ["😀", "⛺"]);
  const many = Array.from({ length: 30 }, (_, index) => String(index));
  const kept = withRecent(many, "⛺");
  assert.equal(kept.length, 24);
  assert.equal(kept[0], "⛺");
});

test("the picker speaks every language of the widget, with the same words", () => {
  const keys = Object.keys(en).sort();
  for (const [locale, table] of Object.entries({ de, fr, es })) {
    assert.deepEqual(Object.keys(table).sort(), keys, locale);
    for (const key of keys) assert.ok(table[key].trim(), `${locale}.${key}`);
    assert.notEqual(table.search, en.search, locale);
  }
});
