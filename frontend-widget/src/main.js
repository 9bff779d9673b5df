// The bundle's entry point: read the embed tag, install `window.Parley`, start the widget.

import { installApi } from "./api.js";
import { browserContext, pagePlace, watchNavigation } from "./context.js";
import { pageStorage } from "./storage.js";
import { createView } from "./ui.js";
import { createWidget } from "./widget.js";

// Each language's words as the build wrote them: dist/locales/<locale>.json, served under its
// content's hash (build.mjs defines the hashes).
const LOCALE_VERSIONS = typeof __PARLEY_LOCALES__ === "object" ? __PARLEY_LOCALES__ : {};

async function fetchStrings(window, baseUrl, locale) {
  const version = LOCALE_VERSIONS[locale];
  if (!version) return null;
  const answer = await window.fetch(`${baseUrl}/widget/locales/${locale}.${version}.json`);
  return answer.ok ? answer.json() : null;
}

// The emoji picker (dist/emoji.js, a module named by its content's hash: build.mjs), imported the
// first time its button is pressed; its data is fetched then.
const EMOJI_VERSION = typeof __PARLEY_EMOJI__ === "string" ? __PARLEY_EMOJI__ : "";
// "Your conversations" (dist/conversations.js), a module imported the first time the list opens.
/* global __PARLEY_LIST__ */
const LIST_VERSION = typeof __PARLEY_LIST__ === "string" ? __PARLEY_LIST__ : "";

function embedTag(document) {
  return document.currentScript || document.querySelector("script[data-parley-bundle]");
}

function boot(window) {
  const { document, console } = window;
  const tag = embedTag(document);
  const data = tag?.dataset ?? {};
  if (!data.siteKey) {
    console.error('Parley: the embed tag has no data-site-key="pk_…" attribute; no chat widget is shown.');
    return;
  }
  const config = {
    siteKey: data.siteKey,
    baseUrl: new URL(tag.src, window.location.href).origin,
    room: data.room || null,
    locale: data.locale || null,
    open: data.open === "true",
  };
  const timers = {
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (id) => window.clearTimeout(id),
    setInterval: (fn, ms) => window.setInterval(fn, ms),
    clearInterval: (id) => window.clearInterval(id),
  };
  const widget = createWidget({
    config,
    env: {
      fetch: (...args) => window.fetch(...args),
      WebSocket: window.WebSocket,
      XMLHttpRequest: window.XMLHttpRequest,
      storage: pageStorage(window),
      timers,
      random: Math.random,
      now: () => Date.now(),
      console,
      origin: window.location.origin,
      languages: [...(window.navigator.languages ?? []), window.navigator.language],
      hidden: () => document.visibilityState === "hidden",
      online: () => window.navigator.onLine,
      context: () => browserContext(window),
      place: () => pagePlace(window),
      onNavigate: (listener) => watchNavigation(window, listener),
      createView: (options) =>
        createView({
          window,
          loadEmoji: () => import(`${config.baseUrl}/widget/emoji/${EMOJI_VERSION}.js`),
          // The emoji last chosen, among the widget's other memory of the site (storage.js).
          recentEmoji: `parley:${config.siteKey}:emoji`,
          ...options,
          loadList: () => import(`${config.baseUrl}/widget/chunks/conversations.${LIST_VERSION}.js`),
        }),
      loadStrings: (locale) => fetchStrings(window, config.baseUrl, locale),
    },
  });
  if (!installApi(window, widget, console)) {
    console.warn("Parley: widget.js is embedded twice on this page; the second copy does nothing.");
    return;
  }
  window.addEventListener("offline", () => widget.networkLost());
  window.addEventListener("online", () => widget.networkBack());
  widget.start();
}

try {
  boot(window);
} catch (error) {
  // Whatever goes wrong, the host page keeps working.
  window.console.error("Parley: the chat widget could not start:", error);
}
