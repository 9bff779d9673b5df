// What the widget reports of the page (docs/PROTOCOL.md, Visitor context): the page's URL and
// title, the referrer, the browser's language and time zone; and when a single-page application
// navigates (history.pushState/replaceState, popstate, hashchange).

const MAX_URL = 2000;
const MAX_TITLE = 300;

// An http(s) URL the server accepts, or "" (a file: page, a URL over the limit).
const httpUrl = (value) =>
  typeof value === "string" && /^https?:\/\/[^/]/i.test(value) && value.length <= MAX_URL ? value : "";

const title = (value) => String(value ?? "").replace(/\s+/g, " ").trim().slice(0, MAX_TITLE);

export function pagePlace(window) {
  return { page_url: httpUrl(window.location.href), page_title: title(window.document.title) };
}

export function browserContext(window) {
  let timeZone = "";
  try {
    timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    timeZone = "";
  }
  const locale = String(window.navigator.language ?? "");
  return {
    ...pagePlace(window),
    referrer: httpUrl(window.document.referrer),
    locale: /^[A-Za-z0-9-]{1,35}$/.test(locale) ? locale : "",
    time_zone: timeZone.length <= 64 ? timeZone : "",
  };
}

// Call `onChange` after the page navigates. History methods are wrapped, not replaced: the
// page's own wrappers (routers, analytics) keep working and are called as before.
export function watchNavigation(window, onChange) {
  const { history } = window;
  for (const method of ["pushState", "replaceState"]) {
    const original = history[method];
    if (typeof original !== "function") continue;
    history[method] = function (...args) {
      const result = original.apply(this, args);
      onChange();
      return result;
    };
  }
  window.addEventListener("popstate", onChange);
  window.addEventListener("hashchange", onChange);
}
