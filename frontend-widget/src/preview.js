// The widget as the dashboard's site page previews it (dist/preview.js, `ParleyPreview`): the
// widget's own view (ui.js, widget.css, i18n.js) drawn inside a box of the page with a sample
// conversation. No session, no socket, no request of any kind: nothing here talks to Parley.

import { LOCALES, addStrings, pickLocale, translator } from "./i18n.js";
import { STRINGS } from "./locales.js";
import { createView } from "./ui.js";

// The preview shows every language at once (it is not the widget's first load).
for (const [locale, table] of Object.entries(STRINGS)) addStrings(locale, table);

// A visitor's question and an agent's answer, in each of the widget's languages.
const SAMPLES = {
  en: {
    visitor: "Hi! Do you ship to Canada?",
    agent: "We do! Orders to Canada arrive in 3 to 5 days.",
  },
  de: {
    visitor: "Hallo! Liefern Sie auch nach Österreich?",
    agent: "Ja! Bestellungen nach Österreich kommen in 3 bis 5 Tagen an.",
  },
  fr: {
    visitor: "Bonjour ! Livrez-vous en Belgique ?",
    agent: "Oui ! Les commandes arrivent en Belgique en 3 à 5 jours.",
  },
  es: {
    visitor: "¡Hola! ¿Hacéis envíos a México?",
    agent: "¡Sí! Los pedidos llegan a México en 3 a 5 días.",
  },
};

const MINUTE = 60 * 1000;
const IGNORE = () => {};
// The preview is inert: nothing in it can be clicked or typed into, so no handler does anything.
const HANDLERS = {
  onOpen: IGNORE,
  onClose: IGNORE,
  onSend: () => false,
  onInput: IGNORE,
  onEarlier: IGNORE,
  onVisible: IGNORE,
};

const text = (value) => (typeof value === "string" ? value.trim() : "");

// The form's values as the widget's session would carry them (PROTOCOL.md, `site`).
export function previewSite(settings = {}) {
  return {
    name: text(settings.name),
    color: text(settings.color),
    greeting: text(settings.greeting),
    position: settings.position === "left" ? "left" : "right",
    locale: text(settings.locale),
    typing_preview: settings.typing_preview === true,
    consent_required: settings.consent_required === true,
    consent_text: text(settings.consent_text),
  };
}

// The site's language when the widget speaks it; otherwise English, as for a visitor whose
// browser asks for none of the widget's languages either. `supported` says which it was.
export function previewLocale(siteLocale) {
  const locale = pickLocale([siteLocale]);
  return { locale, supported: locale !== "en" || /^en(?:[-_]|$)/i.test(text(siteLocale)) };
}

// The sample conversation as the view's state: the visitor asked two minutes ago (and the team
// has seen it), an agent answered a minute ago.
export function sampleState({ t, locale, now, agentName }) {
  const sample = SAMPLES[locale] ?? SAMPLES.en;
  const messages = [
    { key: "visitor", mine: true, kind: "visitor", name: t("you"), seen: true, ts: now - 2 * MINUTE, text: sample.visitor },
    { key: "agent", mine: false, kind: "agent", name: text(agentName) || t("agent"), ts: now - MINUTE, text: sample.agent },
  ];
  // The status line as a visitor sees it with the team online (widget.js: statusLine).
  const line = { state: "online", text: t("onlineReply", { n: 3 }) };
  return { messages, typing: null, status: "open", unread: 0, hasMore: false, line, mode: "chat" };
}

// Draws the widget, open, into `container` (which should be `position: relative` with its
// overflow hidden: the widget fills it less a margin). `settings`: the site's name, color,
// greeting, position, locale, typing_preview, consent_required and consent_text, and `agentName`
// for the sample answer;
// `update(settings)` draws it anew with new ones.
export function mountPreview(container, settings, { window = globalThis.window, now = () => Date.now() } = {}) {
  let view = null;
  function draw(next = {}) {
    const site = previewSite(next);
    const { locale } = previewLocale(site.locale);
    const t = translator(locale);
    view?.destroy();
    // A site that asks consent first: the step its new visitors see before anything else.
    const consent = site.consent_required ? { text: site.consent_text || t("consentText") } : null;
    view = createView({ window, site, t, locale, handlers: HANDLERS, container, preview: true, consent });
    view.update(sampleState({ t, locale, now: now(), agentName: next.agentName }));
    view.open({ focus: false });
  }
  draw(settings);
  return {
    update: draw,
    destroy() {
      view?.destroy();
      view = null;
    },
  };
}

// The widget's languages, for the page to name them.
export { LOCALES };
