// "Your conversations": the visitor's conversations as a list to pick from, and "New
// conversation". Not in the first load: the widget imports this module the first time the
// visitor opens the list (build.mjs writes it as dist/conversations.js; Parley serves it under
// its content's hash, widget/assets.py). It builds nodes only, from what ui.js hands it.

const CSS = typeof __PARLEY_LIST_CSS__ === "string" ? __PARLEY_LIST_CSS__ : "";
const PLUS_ICON = "M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z";
const CHAT_ICON = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z";

// Today's as a time of day, older ones as a date: what a list of conversations reads best.
export function listTime(ts, locale, now = new Date()) {
  const date = new Date(ts ?? NaN);
  if (Number.isNaN(date.getTime())) return "";
  const today = date.toDateString() === now.toDateString();
  const options = today ? { hour: "2-digit", minute: "2-digit" } : { month: "short", day: "numeric" };
  try {
    return new Intl.DateTimeFormat(locale, options).format(date);
  } catch {
    return date.toISOString().slice(today ? 11 : 5, today ? 16 : 10);
  }
}

// Styles of their own beside widget.css's, in the same shadow root.
function addStyles(window, root) {
  try {
    const sheet = new window.CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } catch {
    root.append(Object.assign(window.document.createElement("style"), { textContent: CSS }));
  }
}

// From ui.js: the shadow root and the panel's header (the list goes right under it), its node
// makers, the translator, the message formatting's plain text, the site and the handlers.
export function listView({ window, root, header, make, icon, t, locale, plainText, site, handlers }) {
  addStyles(window, root);
  const section = make("section", "convs");
  section.setAttribute("aria-labelledby", "convs-title");
  const heading = make("h3", null, t("conversations"));
  heading.id = "convs-title";
  heading.tabIndex = -1;
  const list = make("ul");
  const empty = make("p", "none", t("noConversations"));
  empty.setAttribute("role", "status"); // "none yet", or that the list could not be loaded
  const start = make("button", "primary new");
  start.type = "button";
  start.append(icon(PLUS_ICON), make("span", null, t("newConversation")));
  start.addEventListener("click", () => handlers.onNew());
  section.append(heading, list, empty, start);
  header.after(section);

  let current = null;
  let shown = 0; // the latest list asked for: an earlier one answering late is not drawn
  function row(item) {
    const entry = make("li");
    const button = make("button", `conv${item.unread ? " unread" : ""}`);
    button.type = "button";
    if (item.id === current) button.setAttribute("aria-current", "true");
    const avatar = make("span", item.agent ? `av c${item.agent.avatar.color}` : "av");
    avatar.setAttribute("aria-hidden", "true");
    if (item.agent) avatar.textContent = item.agent.avatar.initials;
    else avatar.append(icon(CHAT_ICON));
    const last = item.last_message ?? {};
    const text = plainText(String(last.text ?? "")).replace(/\s+/g, " ").trim();
    const said = text || (last.attachments ? t("file") : "");
    const top = make("span", "top");
    top.append(
      make("span", "who", item.agent?.name || site.name || t("agent")),
      make("span", "when", listTime(last.ts ?? item.last_message_at, locale)),
    );
    const bottom = make("span", "said");
    bottom.append(make("span", "text", last.author === "visitor" ? `${t("you")}: ${said}` : said));
    if (item.status === "closed") bottom.append(make("span", "chip", t("conversationClosed")));
    if (item.unread) {
      const count = make("span", "count", item.unread > 99 ? "99+" : String(item.unread));
      count.setAttribute("aria-hidden", "true");
      bottom.append(count, make("span", "sr", t("unread", { n: item.unread })));
    }
    const body = make("span", "body");
    body.append(top, bottom);
    button.append(avatar, body);
    button.addEventListener("click", () => handlers.onPick(item.id));
    entry.append(button);
    return entry;
  }

  // null while loading, false when they could not be loaded, else the conversations.
  function update(items) {
    section.classList.toggle("loading", items === null);
    list.replaceChildren(...(items || []).map(row));
    list.hidden = !items?.length;
    empty.hidden = items === null || items.length > 0;
    empty.textContent = t(items === false ? "listFailed" : "noConversations");
  }

  return {
    // `conversations`: a promise of the list; `room`: the one the chat shows. The heading takes
    // the focus, so a screen reader says where the visitor is.
    show(conversations, room) {
      const mine = ++shown;
      current = room;
      update(null);
      heading.focus();
      conversations.then(
        (items) => mine === shown && update(items),
        () => mine === shown && update(false),
      );
    },
  };
}
