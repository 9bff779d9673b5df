// The widget's languages: English, German, French and Spanish (src/strings/). The language comes
// from the embed tag's `data-locale`, then the site's locale, then the browser's languages;
// English otherwise, and while another language's words cannot be fetched.

import en from "./strings/en.js";

// Every language the widget speaks. English is in the bundle; another language's table is added
// (`addStrings`) once fetched, so the first load carries one language, not four.
export const LOCALES = ["en", "de", "fr", "es"];
const tables = { en };

export function addStrings(locale, table) {
  if (LOCALES.includes(locale) && table && typeof table === "object") tables[locale] = table;
}

export function hasStrings(locale) {
  return locale in tables;
}

// The first supported language among the candidates ("de-AT" matches "de"), or English.
export function pickLocale(candidates) {
  for (const candidate of candidates) {
    if (typeof candidate !== "string" || !candidate) continue;
    const tag = candidate.toLowerCase().replace("_", "-");
    if (LOCALES.includes(tag)) return tag;
    const primary = tag.split("-")[0];
    if (LOCALES.includes(primary)) return primary;
  }
  return "en";
}

export function translator(locale) {
  const table = tables[locale] ?? en;
  return (key, values = {}) =>
    (table[key] ?? en[key] ?? key).replace(/\{(\w+)\}/g, (whole, name) =>
      name in values ? String(values[name]) : whole,
    );
}

// A message's `ts` (ISO 8601 text, or Unix seconds or milliseconds) as a local time of day.
export function toDate(ts) {
  if (typeof ts === "number" && Number.isFinite(ts)) return new Date(ts < 1e12 ? ts * 1000 : ts);
  if (typeof ts === "string" && ts) {
    const parsed = Date.parse(ts);
    if (!Number.isNaN(parsed)) return new Date(parsed);
  }
  return null;
}

export function formatTime(ts, locale) {
  const date = toDate(ts);
  if (!date) return "";
  try {
    return new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" }).format(date);
  } catch {
    return date.toISOString().slice(11, 16);
  }
}
