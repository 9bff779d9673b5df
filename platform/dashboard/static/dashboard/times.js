// Times in the agent's time zone, by the dashboard's one rule (dashboard/timezones.py):
// same day "HH:MM", else "Mon D, HH:MM", with the full date in the title.
//
// The zone is the page's `data-time-zone` when it is the member's own; otherwise the browser's,
// which this script remembers in the `parley_tz` cookie so the server renders the next page in
// it. Every `<time data-chat-time>` is rendered again here, so a first visit (rendered in UTC
// before the browser could tell its zone) shows one zone too. Other scripts call
// `window.parleyTimes.render(timeElement, iso)` for the times they add.
"use strict";

(() => {
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
  const COOKIE = "parley_tz";

  const body = document.body;
  const browserZone = (() => {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    } catch {
      return "UTC";
    }
  })();
  const zone = body.dataset.timeZoneSource === "member" ? body.dataset.timeZone : browserZone;

  if (body.dataset.timeZoneSource !== "member") {
    const current = document.cookie.split("; ").find((part) => part.startsWith(`${COOKIE}=`));
    // IANA names are letters, digits and "/_+-": a cookie value as they are.
    if (/^[A-Za-z0-9/_+-]{1,64}$/.test(browserZone) && (!current || current.slice(COOKIE.length + 1) !== browserZone)) {
      const secure = location.protocol === "https:" ? "; Secure" : "";
      document.cookie = `${COOKIE}=${browserZone}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
    }
  }

  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, year: "numeric", month: "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit", weekday: "long", hourCycle: "h23",
    });
  } catch {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone: "UTC", year: "numeric", month: "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit", weekday: "long", hourCycle: "h23",
    });
  }

  function local(date) {
    const out = {};
    for (const part of parts.formatToParts(date)) out[part.type] = part.value;
    return {
      year: Number(out.year), month: Number(out.month), day: Number(out.day),
      time: `${out.hour.padStart(2, "0")}:${out.minute.padStart(2, "0")}`,
      weekday: out.weekday,
    };
  }

  function text(date, now = new Date()) {
    const when = local(date);
    const today = local(now);
    const sameDay = when.year === today.year && when.month === today.month && when.day === today.day;
    return sameDay ? when.time : `${MONTHS[when.month - 1]} ${when.day}, ${when.time}`;
  }

  function title(date) {
    const when = local(date);
    const weekday = WEEKDAYS.includes(when.weekday) ? when.weekday : "";
    return `${weekday}, ${MONTH_NAMES[when.month - 1]} ${when.day}, ${when.year}, ${when.time} (${zone})`;
  }

  function render(node, iso) {
    const date = iso ? new Date(iso) : new Date();
    if (Number.isNaN(date.getTime())) return;
    node.dateTime = date.toISOString();
    node.dataset.chatTime = "";
    node.textContent = text(date);
    node.title = title(date);
  }

  for (const node of document.querySelectorAll("time[data-chat-time]")) render(node, node.getAttribute("datetime"));

  window.parleyTimes = { zone, text, title, render };
})();
