// Who answers and when (PROTOCOL.md, Status): the line under the widget's title, and which form
// the panel shows instead of the message box. Pure functions: the widget's state in, words out.

import { toDate } from "./i18n.js";

const LONGEST_TIMER = 2 ** 31 - 1; // setTimeout's limit (about 24.8 days)

export function cleanStatus(raw) {
  const status = raw && typeof raw === "object" ? raw : {};
  return {
    agents: ["online", "away", "offline"].includes(status.agents) ? status.agents : "offline",
    reply_minutes: Number.isInteger(status.reply_minutes) && status.reply_minutes > 0 ? status.reply_minutes : null,
    open: status.open !== false,
    changes_at: typeof status.changes_at === "string" ? status.changes_at : null,
    next_opening: typeof status.next_opening === "string" ? status.next_opening : null,
  };
}

// "Monday 09:00" (or "today 09:00"/"tomorrow 09:00" in the visitor's zone and language).
export function formatOpening(iso, locale, now = new Date()) {
  const date = toDate(iso);
  if (!date) return "";
  try {
    const day = (d) => new Intl.DateTimeFormat("en-CA").format(d); // YYYY-MM-DD, local
    const time = new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit" }).format(date);
    const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
    const tomorrow = new Date(now.getTime() + 864e5);
    if (day(date) === day(now)) return `${relative.format(0, "day")} ${time}`;
    if (day(date) === day(tomorrow)) return `${relative.format(1, "day")} ${time}`;
    const near = date - now < 6 * 864e5;
    const when = new Intl.DateTimeFormat(locale, near ? { weekday: "long" } : { weekday: "short", day: "numeric", month: "short" });
    return `${when.format(date)} ${time}`;
  } catch {
    return date.toISOString().slice(0, 16).replace("T", " ");
  }
}

// The status line: {state: "online" | "away" | "closed", text}.
export function statusLine(status, t, locale, now) {
  if (!status.open) {
    const when = status.next_opening ? formatOpening(status.next_opening, locale, now) : "";
    return { state: "closed", text: when ? t("closedUntil", { when }) : t("closedNow") };
  }
  if (status.agents === "online") {
    return {
      state: "online",
      text: status.reply_minutes ? t("onlineReply", { n: status.reply_minutes }) : t("online"),
    };
  }
  return { state: "away", text: t("away") };
}

// What the panel shows below the messages: "chat", "prechat" or "offline"; "hidden" for no
// widget at all (out of hours on a site that hides its launcher).
export function panelMode({ site, status, prechat, hasMessages }) {
  if (!status.open && site.out_of_hours === "hide_launcher") return "hidden";
  if (!status.open && site.out_of_hours === "offline_form") return "offline";
  if (status.open && status.agents !== "online" && site.offline_form_when_unavailable) return "offline";
  if (prechat && prechat.mode !== undefined && !prechat.done && !hasMessages) {
    if (prechat.mode !== "none" || prechat.fields.length) return "prechat";
  }
  return "chat";
}

// How long until the status should be asked again (its hours open or close), or null.
export function untilChange(status, now) {
  const at = toDate(status.changes_at);
  if (!at) return null;
  return Math.min(Math.max(at - now + 1000, 1000), LONGEST_TIMER);
}
