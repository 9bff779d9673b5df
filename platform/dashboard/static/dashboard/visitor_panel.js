// The conversation page's visitor panel and the visitor's draft, live over the agent socket.
//
// inbox.js owns the socket and tells every frame as a `parley:frame` event on `document`; this
// module listens for two of them (PROTOCOL.md): `visitor` (the visitor navigated or started a
// session) refreshes the panel, and `typing` with a `draft` (a site with the typing preview) shows
// what the visitor is typing. Visitor data only ever reaches the page through textContent and a
// checked http(s) href.
"use strict";

(() => {
  const panel = document.getElementById("visitor-panel");
  const draftNote = document.getElementById("typing-draft");
  const typingNote = document.getElementById("typing");
  if (!panel || !panel.dataset.room) return;

  const room = panel.dataset.room;
  const siteId = Number(panel.dataset.siteId);
  const visitorId = panel.dataset.visitorId;
  const DRAFT_SHOWN_MS = 6000;
  let draftTimer = null;

  const field = (name) => panel.querySelector(`[data-field="${name}"]`);
  const isHttp = (url) => typeof url === "string" && /^https?:\/\//i.test(url);
  const ours = (frame) =>
    frame.conversation === room && (frame.site_id === undefined || frame.site_id === siteId);

  function setText(name, text) {
    const node = field(name);
    if (node) node.textContent = text || "—";
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showPage(url, title) {
    const node = field("page");
    if (!node) return;
    node.replaceChildren();
    if (!isHttp(url)) {
      node.textContent = "—";
      return;
    }
    const link = element("a", "", title || url);
    link.id = "visitor-page";
    link.title = title || url;
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    const shown = element("span", "muted url", url);
    shown.id = "visitor-page-url";
    shown.title = url;
    node.append(link, shown);
  }

  function localTime(timeZone) {
    if (!timeZone) return "";
    try {
      return new Date().toLocaleTimeString(undefined, { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    } catch {
      return "";
    }
  }

  function showLocalTime() {
    const node = field("local-time");
    if (!node) return;
    const timeZone = node.dataset.timeZone;
    const time = localTime(timeZone);
    node.replaceChildren();
    if (!time) {
      node.textContent = "—";
      return;
    }
    node.append(`${time} `, element("span", "muted", `(${timeZone})`));
  }

  function showAttributes(attributes) {
    const list = document.getElementById("visitor-attributes");
    if (!list || !attributes || typeof attributes !== "object") return;
    list.replaceChildren();
    const entries = Object.entries(attributes);
    if (!entries.length) list.append(element("dt", "muted", "None"), element("dd", ""));
    for (const [key, value] of entries) {
      list.append(element("dt", "break", key), element("dd", "break", value === null ? "—" : String(value)));
    }
  }

  function showPrechat(answers) {
    const list = document.getElementById("visitor-prechat");
    if (!list || !Array.isArray(answers)) return;
    list.replaceChildren();
    if (!answers.length) list.append(element("dt", "muted", "None"), element("dd", ""));
    for (const answer of answers) {
      const value = answer.value === true ? "Yes" : answer.value === false ? "No" : String(answer.value);
      list.append(element("dt", "break", answer.label), element("dd", "break", value));
    }
  }

  function showVisitor(visitor) {
    if (!visitor || visitor.id !== visitorId) return;
    setText("name", visitor.name);
    setText("email", visitor.email);
    showPage(visitor.page_url, visitor.page_title);
    setText("referrer", visitor.referrer);
    const referrer = field("referrer");
    if (referrer) referrer.title = visitor.referrer || "";
    const browser = visitor.browser || visitor.os
      ? `${visitor.browser || "Unknown browser"}${visitor.os ? ` on ${visitor.os}` : ""}${visitor.device ? ` · ${visitor.device}` : ""}`
      : "";
    setText("browser", browser);
    setText("locale", visitor.locale);
    const place = visitor.country ? [visitor.city, visitor.country].filter(Boolean).join(", ") : "";
    setText("place", place);
    const clock = field("local-time");
    if (clock) clock.dataset.timeZone = visitor.time_zone || "";
    showLocalTime();
    showAttributes(visitor.attributes);
    showPrechat(visitor.prechat_answers);
    const lastSeen = field("last-seen");
    if (lastSeen && visitor.last_seen_at) {
      const time = document.createElement("time");
      window.parleyTimes.render(time, visitor.last_seen_at); // the dashboard's one rule
      lastSeen.replaceChildren(time);
    }
  }

  function hideDraft() {
    clearTimeout(draftTimer);
    if (draftNote) {
      draftNote.hidden = true;
      draftNote.textContent = "";
    }
  }

  function showDraft(frame) {
    if (!draftNote) return;
    if (!frame.state || typeof frame.draft !== "string" || !frame.draft) {
      hideDraft();
      return;
    }
    const name = (frame.author && frame.author.name) || "Visitor";
    draftNote.textContent = `${name} is typing: ${frame.draft}`;
    draftNote.hidden = false;
    if (typingNote) typingNote.hidden = true; // the draft says it, with the words
    clearTimeout(draftTimer);
    draftTimer = setTimeout(hideDraft, DRAFT_SHOWN_MS);
  }

  const handlers = {
    visitor(frame) {
      if (ours(frame)) showVisitor(frame.visitor);
    },
    typing(frame) {
      if (ours(frame) && frame.author && frame.author.kind === "visitor") showDraft(frame);
    },
    message(frame) {
      if (ours(frame) && frame.author && frame.author.kind === "visitor") hideDraft();
    },
  };

  document.addEventListener("parley:frame", (event) => {
    const frame = event.detail;
    const handle = frame && handlers[frame.type];
    if (handle) handle(frame);
  });

  showLocalTime();
  setInterval(showLocalTime, 30000);
})();
