import assert from "node:assert/strict";
import { test } from "node:test";

import { LOCALES, addStrings, formatTime, hasStrings, pickLocale, toDate, translator } from "../src/i18n.js";
import { STRINGS } from "../src/locales.js";

test("only English is there before another language is added", () => {
  assert.ok(hasStrings("en"));
  assert.equal(translator("de")("send"), translator("en")("send"));
  assert.deepEqual(Object.keys(STRINGS).sort(), [...LOCALES].sort());
  for (const [locale, table] of Object.entries(STRINGS)) addStrings(locale, table);
  assert.ok(hasStrings("de"));
  assert.notEqual(translator("de")("send"), translator("en")("send"));
});

test("English and at least three more languages", () => {
  assert.ok(LOCALES.includes("en"));
  assert.ok(LOCALES.length >= 4);
});

test("the first supported candidate wins, by full tag or primary language", () => {
  assert.equal(pickLocale(["de-AT", "fr"]), "de");
  assert.equal(pickLocale([null, "", "pt-BR", "es_MX"]), "es");
  assert.equal(pickLocale(["FR"]), "fr");
  assert.equal(pickLocale(["ja", "zh"]), "en");
  assert.equal(pickLocale([]), "en");
});

test("every language translates every key, with placeholders filled", () => {
  const english = translator("en");
  for (const locale of LOCALES) {
    const t = translator(locale);
    assert.ok(t("typing", { name: "Anna" }).includes("Anna"), locale);
    assert.notEqual(t("send"), "send", locale);
  }
  assert.equal(english("unread", { n: 3 }), "3 unread");
  assert.equal(translator("xx")("send"), "Send");
});

test("every language has exactly the English keys, none empty", () => {
  const keys = Object.keys(STRINGS.en).sort();
  for (const locale of LOCALES) {
    assert.deepEqual(Object.keys(STRINGS[locale]).sort(), keys, locale);
    for (const key of keys) assert.ok(STRINGS[locale][key].trim(), `${locale}.${key}`);
  }
});

test("timestamps in ISO text, Unix seconds or milliseconds", () => {
  const iso = "2026-11-24T10:05:00Z";
  assert.equal(toDate(iso).getTime(), Date.parse(iso));
  assert.equal(toDate(1764000000).getTime(), 1764000000000);
  assert.equal(toDate(1764000000000).getTime(), 1764000000000);
  assert.equal(toDate("nonsense"), null);
  assert.equal(formatTime(null, "en"), "");
  assert.match(formatTime(iso, "de"), /^\d{2}:\d{2}$/);
});
