import assert from "node:assert/strict";
import { test } from "node:test";

import { cleanStatus, formatOpening, panelMode, statusLine, untilChange } from "../src/availability.js";
import { cleanPrechat, problemKey } from "../src/forms.js";
import { LOCALES, addStrings, translator } from "../src/i18n.js";
import { STRINGS } from "../src/locales.js";

const t = translator("en");
const NOW = new Date("2026-12-04T12:00:00Z");

test("the status line says online with the reply time, away, or when it opens", () => {
  const online = cleanStatus({ agents: "online", reply_minutes: 4, open: true });
  assert.deepEqual(statusLine(online, t, "en", NOW), { state: "online", text: "Online · we usually reply in 4 min" });
  assert.equal(statusLine(cleanStatus({ agents: "online" }), t, "en", NOW).text, "Online");
  assert.equal(statusLine(cleanStatus({ agents: "away" }), t, "en", NOW).text, "Away · we will answer by email");
  assert.equal(statusLine(cleanStatus({ agents: "offline" }), t, "en", NOW).state, "away");
  const closed = cleanStatus({ agents: "online", open: false, next_opening: "2026-12-07T08:00:00Z" });
  const line = statusLine(closed, t, "en", NOW);
  assert.equal(line.state, "closed");
  assert.match(line.text, /^Closed · we open Monday \d{1,2}:\d\d/);
  assert.equal(statusLine(cleanStatus({ open: false }), t, "en", NOW).text, "Closed · we will answer by email");
});

test("the opening is said relative to today in the visitor's language", () => {
  assert.match(formatOpening("2026-12-04T18:00:00Z", "en", NOW), /^today /);
  assert.match(formatOpening("2026-12-05T09:00:00Z", "fr", NOW), /^demain /);
  assert.match(formatOpening("2026-12-20T09:00:00Z", "de", NOW), /20/);
  assert.equal(formatOpening("not a date", "en", NOW), "");
});

test("what the panel shows: the forms, the chat or nothing", () => {
  const site = { out_of_hours: "offline_form", offline_form_when_unavailable: false };
  const open = cleanStatus({ agents: "online" });
  const closed = cleanStatus({ agents: "online", open: false });
  const none = { mode: "none", fields: [], done: true };
  const asks = cleanPrechat({ mode: "email_required", done: false, fields: [] });
  assert.equal(panelMode({ site, status: open, prechat: none, hasMessages: false }), "chat");
  assert.equal(panelMode({ site, status: closed, prechat: none, hasMessages: true }), "offline");
  assert.equal(panelMode({ site: { ...site, out_of_hours: "hide_launcher" }, status: closed, prechat: none }), "hidden");
  assert.equal(panelMode({ site: { ...site, out_of_hours: "chat" }, status: closed, prechat: none }), "chat");
  assert.equal(panelMode({ site, status: open, prechat: asks, hasMessages: false }), "prechat");
  assert.equal(panelMode({ site, status: open, prechat: asks, hasMessages: true }), "chat");
  const away = cleanStatus({ agents: "away" });
  assert.equal(panelMode({ site, status: away, prechat: none }), "chat");
  assert.equal(panelMode({ site: { ...site, offline_form_when_unavailable: true }, status: away, prechat: none }), "offline");
});

test("the status is asked again just after it changes, never past a timer's limit", () => {
  assert.equal(untilChange(cleanStatus({ changes_at: "2026-12-04T12:10:00Z" }), NOW.getTime()), 601000);
  assert.equal(untilChange(cleanStatus({ changes_at: "2026-12-04T11:00:00Z" }), NOW.getTime()), 1000);
  assert.equal(untilChange(cleanStatus({ changes_at: "2027-12-04T11:00:00Z" }), NOW.getTime()), 2 ** 31 - 1);
  assert.equal(untilChange(cleanStatus({}), NOW.getTime()), null);
});

test("unknown values from the server fall back safely", () => {
  assert.deepEqual(cleanStatus("nonsense"), {
    agents: "offline", reply_minutes: null, open: true, changes_at: null, next_opening: null,
  });
  const prechat = cleanPrechat({ mode: "all", fields: [{ key: "a", type: "date" }, { key: "b", type: "select", options: ["x", 2] }] });
  assert.equal(prechat.mode, "none");
  assert.deepEqual(prechat.fields.map((f) => [f.key, f.options]), [["b", ["x"]]]);
  assert.equal(problemKey("is not a number"), "fieldNumber");
  assert.equal(problemKey("something new"), "fieldInvalid");
});

test("every language has every word of the status line and the forms", () => {
  for (const [locale, table] of Object.entries(STRINGS)) addStrings(locale, table);
  const keys = ["online", "onlineReply", "away", "closedUntil", "closedNow", "prechatIntro", "offlineIntro",
    "name", "email", "optional", "message", "choose", "startChat", "sendMessage", "sendAnother", "offlineSent",
    "formInvalid", "formFailed", "fieldRequired", "fieldEmail", "fieldNumber", "fieldInvalid"];
  const english = translator("en");
  for (const locale of LOCALES.filter((l) => l !== "en")) {
    const local = translator(locale);
    for (const key of keys) {
      if (key !== "optional") assert.notEqual(local(key), key, `${locale}: ${key}`);
      if (!["online", "name", "message", "optional"].includes(key)) assert.notEqual(local(key), english(key), `${locale}: ${key}`);
    }
  }
});
