import assert from "node:assert/strict";
import { test } from "node:test";

import { LOCALES, translator } from "../src/i18n.js";
import { previewLocale, previewSite, sampleState } from "../src/preview.js";

const NOW = Date.parse("2026-12-04T10:30:00Z");

test("the form's values become the site the widget's view is given", () => {
  const site = previewSite({
    name: "  Acme  ",
    color: "#14532d",
    greeting: " Hello there ",
    position: "left",
    locale: " de ",
    typing_preview: true,
    consent_required: true,
    consent_text: " We keep chats 30 days. ",
    extra: "ignored",
  });
  assert.deepEqual(site, {
    name: "Acme",
    color: "#14532d",
    greeting: "Hello there",
    position: "left",
    locale: "de",
    typing_preview: true,
    consent_required: true,
    consent_text: "We keep chats 30 days.",
  });
});

test("anything unexpected falls back to what the widget does without it", () => {
  const odd = { position: "top", color: 42, greeting: null, typing_preview: "on", consent_required: "on" };
  assert.deepEqual(previewSite(odd), {
    name: "",
    color: "",
    greeting: "",
    position: "right",
    locale: "",
    typing_preview: false,
    consent_required: false,
    consent_text: "",
  });
  assert.equal(previewSite().position, "right");
});

test("the site's language when the widget speaks it, English otherwise, and which it was", () => {
  assert.deepEqual(previewLocale("de-AT"), { locale: "de", supported: true });
  assert.deepEqual(previewLocale("FR"), { locale: "fr", supported: true });
  assert.deepEqual(previewLocale("en-GB"), { locale: "en", supported: true });
  assert.deepEqual(previewLocale("pt-BR"), { locale: "en", supported: false });
  assert.deepEqual(previewLocale("english"), { locale: "en", supported: false });
  assert.deepEqual(previewLocale(""), { locale: "en", supported: false });
});

test("the sample conversation: the visitor's question, seen, then an agent's answer", () => {
  const t = translator("en");
  const state = sampleState({ t, locale: "en", now: NOW, agentName: "Ada Lovelace" });
  assert.deepEqual(
    state.messages.map(({ mine, kind, name, seen }) => ({ mine, kind, name, seen })),
    [
      { mine: true, kind: "visitor", name: "You", seen: true },
      { mine: false, kind: "agent", name: "Ada Lovelace", seen: undefined },
    ],
  );
  const [question, answer] = state.messages;
  assert.ok(question.ts < answer.ts && answer.ts < NOW);
  assert.equal(new Set(state.messages.map((m) => m.key)).size, 2);
  assert.deepEqual(
    { ...state, messages: [] },
    {
      messages: [],
      typing: null,
      status: "open",
      unread: 0,
      hasMore: false,
      line: { state: "online", text: "Online · we usually reply in 3 min" },
      mode: "chat",
    },
  );
});

test("the agent is named by the site's language's word for the team when no name is given", () => {
  for (const agentName of [undefined, "", "   "]) {
    const state = sampleState({ t: translator("es"), locale: "es", now: NOW, agentName });
    assert.equal(state.messages[1].name, "Soporte");
  }
});

test("every language of the widget has its own sample conversation", () => {
  const english = sampleState({ t: translator("en"), locale: "en", now: NOW }).messages;
  for (const locale of LOCALES.filter((l) => l !== "en")) {
    const messages = sampleState({ t: translator(locale), locale, now: NOW }).messages;
    for (const [index, message] of messages.entries()) {
      assert.ok(message.text.length > 0, locale);
      assert.notEqual(message.text, english[index].text, locale);
    }
  }
});
