// dist/emoji.js: the emoji picker (emoji_picker.js) as a module, imported the first time its
// button is pressed: by the widget (main.js) from the platform's host, by the dashboard's
// conversation page from the tenant's. Its data, a file a language (build.mjs), is fetched from
// beside this module under the content hash the build defines, so it is cached for a year.
// `attach({root, mount, anchor, field, locale, recent})` returns the picker:
// `root` (a shadow root or the document) takes its stylesheet, `mount` holds the popover, and
// `recent` names the localStorage entry of the recently used emoji.
import { createPicker } from "./emoji_picker.js";
import { emojiPicker as de } from "./strings/de.js";
import { emojiPicker as en } from "./strings/en.js";
import { emojiPicker as es } from "./strings/es.js";
import { emojiPicker as fr } from "./strings/fr.js";

/* global __PARLEY_EMOJI_CSS__, __PARLEY_EMOJI_DATA__ */
const CSS = typeof __PARLEY_EMOJI_CSS__ === "string" ? __PARLEY_EMOJI_CSS__ : "";
const DATA = typeof __PARLEY_EMOJI_DATA__ === "object" ? __PARLEY_EMOJI_DATA__ : {};
const WORDS = { en, de, fr, es };
const styled = new WeakSet();

function adoptStyles(root) {
  if (styled.has(root)) return;
  styled.add(root);
  if ("adoptedStyleSheets" in root && typeof window.CSSStyleSheet === "function") {
    const sheet = new window.CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    return;
  }
  const style = document.createElement("style");
  style.textContent = CSS;
  (root.head ?? root).append(style);
}

// The recently used emoji, most recent first. Storage may be missing or refuse (privacy modes):
// the picker then remembers them for the page's life.
function recentStore(key) {
  let kept = [];
  return {
    get() {
      try {
        const stored = JSON.parse(window.localStorage.getItem(key));
        if (Array.isArray(stored)) kept = stored.filter((emoji) => typeof emoji === "string");
      } catch {
        // What this page remembers is all there is.
      }
      return kept;
    },
    set(list) {
      kept = list;
      try {
        window.localStorage.setItem(key, JSON.stringify(list));
      } catch {
        // Kept for the page's life only.
      }
    },
  };
}

export function attach({ root, mount, anchor, field, locale, recent, onToggle }) {
  const language = locale in DATA ? locale : "en";
  adoptStyles(root);
  mount.classList.add("pe-mount");
  return createPicker({
    document,
    mount,
    anchor,
    field,
    recent: recentStore(recent),
    onToggle,
    words: WORDS[language] ?? en,
    loadData: async () => {
      const answer = await window.fetch(new URL(`${language}.${DATA[language]}.json`, import.meta.url));
      if (!answer.ok) throw new Error(`the emoji answered ${answer.status}`);
      return answer.json();
    },
  });
}
