// The widget's DOM, inside a shadow root. Message data only ever reaches the page through
// textContent and a checked link href (markdown.js): never innerHTML, never a style attribute
// (strict CSP).

import { problemKey } from "./forms.js";
import { formatTime } from "./i18n.js";
import { plainText, render as renderMarkdown } from "./markdown.js";

/* global __PARLEY_CSS__ */
const CSS = typeof __PARLEY_CSS__ === "string" ? __PARLEY_CSS__ : "";
const SVG = "http://www.w3.org/2000/svg";
const CHAT_ICON = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z";
const SEND_ICON = "M2 21 23 12 2 3v7l15 2-15 2z";
const DOWN_ICON = "M7.4 8.6 12 13.2l4.6-4.6L18 10l-6 6-6-6z";
const SMILE_ICON =
  "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16zM9 8a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm-7.5 6h9a4.5 4.5 0 0 1-9 0z";
const LIST_ICON = "M15.4 7.4 14 6l-6 6 6 6 1.4-1.4L10.8 12z";
const CLIP_ICON =
  "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z";

// A file's size for people: 812 B, 14 KB, 2.3 MB.
export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// A site color is tenant data: only plain hex colors get into the stylesheet.
export function themeRule(color) {
  if (!/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(color)) return "";
  const hex = color.length === 4 ? color.replace(/([0-9a-f])/gi, "$1$1").slice(1) : color.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return `:host{--pc:${color};--pt:${luminance > 0.45 ? "#111827" : "#fff"}}`;
}

// `container` and `preview` serve the dashboard's preview (src/preview.js): the widget drawn inside
// a framed box of the page (`:host(.preview)` in widget.css), inert, instead of fixed on the page.
// `consent: {text}`: the panel asks the visitor's consent (handlers.onConsent(accepted)) instead
// of showing the chat; the widget makes a chat view once it is given. `loadEmoji()` imports the
// emoji picker (main.js) the first time its button is pressed; `recentEmoji` names where it keeps
// the recently used.
export function createView({
  window,
  site,
  t,
  locale,
  handlers,
  container,
  preview = false,
  consent = null,
  loadEmoji = () => Promise.reject(),
  recentEmoji = null,
  conversations = false,
  loadList,
}) {
  const { document } = window;
  const make = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  };
  const icon = (path, className = "") => {
    const svg = document.createElementNS(SVG, "svg");
    if (className) svg.setAttribute("class", className);
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const shape = document.createElementNS(SVG, "path");
    shape.setAttribute("d", path);
    svg.append(shape);
    return svg;
  };

  const host = document.createElement("parley-widget");
  if (site.position === "left") host.classList.add("left");
  if (preview) {
    host.classList.add("preview");
    host.inert = true;
  }
  const root = host.attachShadow({ mode: "open" });
  const sheet = adoptStyles(window, root, CSS + themeRule(site.color));

  const panel = make("section", "panel");
  panel.id = "panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-labelledby", "title");
  const header = make("header");
  const title = make("h2", null, site.name || t("chat"));
  title.id = "title";
  const closeButton = make("button", "x", "×");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", t("closeChat"));
  const heading = make("div", "heading");
  // Who answers and when: read out when it changes (a status region is polite).
  const line = make("p", "line");
  line.setAttribute("role", "status");
  const dot = make("span", "dot");
  dot.setAttribute("aria-hidden", "true");
  const lineText = make("span");
  line.append(dot, lineText);
  heading.append(title, line);
  header.append(heading, closeButton);
  // "Your conversations" (handlers.onList), a public room has none. It opens the list and,
  // pressed again, closes it: back to the conversation shown, even when the list failed.
  const back = make("button", "x back");
  if (conversations) {
    back.type = "button";
    back.setAttribute("aria-label", t("conversations"));
    back.setAttribute("aria-expanded", "false");
    back.append(icon(LIST_ICON));
    back.addEventListener("click", () => (panel.classList.contains("listing") ? showChat() : handlers.onList()));
    header.prepend(back);
  }
  const awayMessage = make("p", "away-message");
  awayMessage.hidden = true;

  const notice = make("div", "notice");
  notice.setAttribute("role", "status");
  notice.hidden = true;
  const flash = make("div", "flash");
  flash.setAttribute("role", "alert");
  flash.hidden = true;

  const log = make("div", "log");
  log.tabIndex = 0;
  log.setAttribute("aria-label", t("messages"));
  const greeting = make("p", "greeting", site.greeting || t("greeting"));
  const earlier = make("button", "earlier", t("earlier"));
  earlier.type = "button";
  earlier.hidden = true;
  const list = make("ol");
  list.setAttribute("aria-label", t("messages"));
  // "Email me this conversation" (handlers.onTranscript), and its email box when the server
  // knows no address for the visitor (`askTranscriptEmail`).
  const transcript = make("form", "transcript");
  transcript.hidden = true;
  const transcriptAsk = make("button", "earlier", t("transcriptAsk"));
  transcriptAsk.type = "button";
  const transcriptLabel = make("label", "sr", t("transcriptEmail"));
  transcriptLabel.htmlFor = "transcript-email";
  const transcriptEmail = make("input");
  transcriptEmail.type = "email";
  transcriptEmail.id = "transcript-email";
  transcriptEmail.autocomplete = "email";
  transcriptEmail.placeholder = t("transcriptEmail");
  const transcriptSend = make("button", "accept", t("transcriptSend"));
  transcriptSend.type = "submit";
  const transcriptBox = make("div", "actions");
  transcriptBox.hidden = true;
  transcriptBox.append(transcriptLabel, transcriptEmail, transcriptSend);
  transcript.append(transcriptAsk, transcriptBox);
  transcriptAsk.addEventListener("click", () => handlers.onTranscript?.(""));
  transcript.addEventListener("submit", (event) => {
    event.preventDefault();
    if (transcriptEmail.value.trim()) handlers.onTranscript?.(transcriptEmail.value.trim());
  });
  log.append(earlier, greeting, list, transcript);
  const typing = make("div", "typing");
  typing.setAttribute("aria-live", "polite");

  const form = make("form", "composer");
  const label = make("label", "sr", t("inputLabel"));
  label.htmlFor = "input";
  const input = make("textarea");
  input.id = "input";
  input.rows = 1;
  input.maxLength = 4000;
  input.placeholder = t("placeholder");
  input.setAttribute("enterkeyhint", "send");
  const send = make("button", "send");
  send.type = "submit";
  send.setAttribute("aria-label", t("send"));
  send.append(icon(SEND_ICON));
  // Files: a picker behind the clip button, a paste into the box, a drop on the panel.
  const picker = make("input");
  picker.type = "file";
  picker.multiple = true;
  picker.hidden = true;
  // The round buttons beside the message box: the clip and the emoji.
  const boxButton = (name, path) => {
    const button = make("button", "attach");
    button.type = "button";
    button.setAttribute("aria-label", (button.title = t(name)));
    button.append(icon(path));
    return button;
  };
  const attach = boxButton("attach", CLIP_ICON);
  // A site that takes no file has no clip; the file picker offers the types it takes.
  if (site.attachment_types) {
    attach.hidden = !site.attachment_types.length;
    picker.accept = site.attachment_types.join();
  }
  const emoji = boxButton("emoji", SMILE_ICON);
  let emojiPicker = null;
  emoji.addEventListener("click", async () => {
    emojiPicker ??= loadEmoji().then((api) =>
      api.attach({ root, mount: form, anchor: emoji, field: input, locale, recent: recentEmoji }),
    );
    try {
      (await emojiPicker).toggle();
    } catch {
      emojiPicker = null; // tried again at the next press
    }
  });
  form.append(picker, attach, label, input, emoji, send);
  const uploads = make("ul", "uploads");
  uploads.hidden = true;
  uploads.setAttribute("aria-live", "polite");
  // Built the first time it is asked for, just above the message box.
  let ratingView = null;
  const showRating = (rating) => {
    if (!rating && !ratingView) return;
    if (!ratingView) {
      ratingView = ratingPrompt(make, t, handlers);
      panel.insertBefore(ratingView.section, form);
    }
    ratingView.update(rating);
  };
  // The pre-chat and offline forms, built when shown (forms.js talks to the server).
  const intake = make("form", "intake");
  intake.noValidate = true;
  intake.hidden = true;
  let consentAccept = null;
  if (consent) {
    const step = make("div", "consent");
    const text = make("p", null, consent.text);
    text.id = "consent-text";
    panel.setAttribute("aria-describedby", "consent-text");
    consentAccept = make("button", "accept", t("consentAccept"));
    const decline = make("button", "decline", t("consentDecline"));
    for (const [button, accepted] of [
      [consentAccept, true],
      [decline, false],
    ]) {
      button.type = "button";
      button.addEventListener("click", () => handlers.onConsent(accepted));
    }
    const actions = make("div", "actions");
    actions.append(consentAccept, decline);
    const card = make("div", "card");
    const heading = make("h3", null, t("consentTitle"));
    heading.id = "consent-title";
    card.setAttribute("role", "group");
    card.setAttribute("aria-labelledby", "consent-title");
    card.append(heading, text);
    step.append(make("p", "greeting", site.greeting || t("greeting")), card, actions);
    panel.append(header, step);
  } else {
    panel.append(header, awayMessage, notice, flash, log, typing, uploads, form, intake);
  }
  if (site.typing_preview) {
    // The site shows agents the draft: the visitor is told, always, right by the composer.
    panel.append(make("p", "disclosure", t("previewNotice")));
  }

  const launcher = make("button", "launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-controls", "panel");
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-label", t("openChat"));
  const badge = make("span", "badge");
  badge.hidden = true;
  badge.setAttribute("aria-hidden", "true");
  launcher.append(icon(CHAT_ICON, "i-chat"), icon(DOWN_ICON, "i-down"), badge);

  // New messages from others are read out here; the list itself stays quiet so a re-render
  // never repeats the whole conversation to a screen reader.
  const announcer = make("div", "sr");
  announcer.setAttribute("aria-live", "polite");
  announcer.setAttribute("role", "status");
  root.append(panel, launcher, announcer);
  (container ?? document.body).append(host);

  let isOpen = false;
  let listed = null; // the list's module, once asked for
  let flashTimer = null;
  let shownMode = "chat";
  let shownSent = false;
  const rows = new Map(); // message key -> rendered <li>

  function open({ focus }) {
    if (isOpen) return;
    isOpen = true;
    panel.hidden = false;
    host.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", t("closeChat"));
    log.scrollTop = log.scrollHeight;
    fitInput();
    const field = shownMode === "chat" ? input : (intake.querySelector("input, select, textarea, button") ?? input);
    if (focus) (consentAccept ?? field).focus();
    handlers.onOpen();
  }

  function showChat() {
    panel.classList.remove("listing");
    back.setAttribute("aria-expanded", "false");
    log.scrollTop = log.scrollHeight;
    if (isOpen) input.focus();
    handlers.onVisible(); // what came while the list was shown is seen now
  }

  function close() {
    if (!isOpen) return;
    const hadFocus = root.activeElement !== null;
    isOpen = false;
    panel.hidden = true;
    host.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", t("openChat"));
    // Back to the launcher when the visitor closed it; a page's Parley('close') steals nothing.
    if (hadFocus) launcher.focus();
    handlers.onClose();
  }

  // The message box's height follows its content (widget.css caps it at six lines, then it
  // scrolls). It is set by a rule of the widget's own stylesheet, rewritten whole each time,
  // never through a style attribute or an element's style (see PROTOCOL.md, strict CSP).
  const boxHeight = ownRule(sheet, "#input");
  function fitInput() {
    if (!boxHeight) return;
    boxHeight("");
    if (!isOpen) return;
    const borders = input.offsetHeight - input.clientHeight;
    boxHeight(`height: ${input.scrollHeight + borders}px`);
  }

  function submit() {
    if (handlers.onSend(input.value)) {
      input.value = "";
      fitInput();
    }
    input.focus();
  }

  launcher.addEventListener("click", () => (isOpen ? close() : open({ focus: true })));
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => {
    fitInput();
    handlers.onInput(() => input.value);
  });
  earlier.addEventListener("click", () => handlers.onEarlier());
  attach.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    handlers.onFiles(picker.files);
    picker.value = "";
  });
  input.addEventListener("paste", (event) => {
    const files = event.clipboardData?.files;
    if (files?.length) {
      event.preventDefault();
      handlers.onFiles(files);
    }
  });
  panel.addEventListener("dragover", (event) => {
    if ([...(event.dataTransfer?.types ?? [])].includes("Files")) {
      event.preventDefault();
      panel.classList.add("dropping");
    }
  });
  panel.addEventListener("dragleave", (event) => {
    if (event.target === panel) panel.classList.remove("dropping");
  });
  panel.addEventListener("drop", (event) => {
    panel.classList.remove("dropping");
    if (event.dataTransfer?.files?.length) {
      event.preventDefault();
      handlers.onFiles(event.dataTransfer.files);
    }
  });
  const onVisibility = () => handlers.onVisible();
  document.addEventListener("visibilitychange", onVisibility);
  // A phone turned sideways (or back) wraps the draft anew.
  window.addEventListener("resize", fitInput);

  // Images as thumbnails that open the original, other files as cards that download it.
  function files(attachments) {
    const box = make("div", "files");
    for (const file of attachments) {
      const link = make("a", file.thumbnail_url ? "thumb" : "card");
      link.href = file.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      if (file.thumbnail_url) {
        const image = make("img");
        image.src = file.thumbnail_url;
        image.alt = file.name;
        link.append(image);
      } else {
        link.download = file.name;
        link.append(make("span", "name", file.name), make("span", "size", fileSize(file.size)));
      }
      box.append(link);
    }
    return box;
  }

  function row(message) {
    const item = make("li");
    const bubble = make("div", "bubble");
    if (message.text) bubble.append(renderMarkdown(message.text, document));
    if (message.attachments?.length) bubble.append(files(message.attachments));
    // Pictures alone need no bubble around them.
    if (!message.text && message.attachments?.every((file) => file.thumbnail_url)) bubble.classList.add("bare");
    const meta = make("div", "meta");
    item.append(bubble, meta);
    return item;
  }

  function renderUploads(list) {
    uploads.hidden = list.length === 0;
    uploads.replaceChildren(
      ...list.map((upload) => {
        const chip = make("li", `upload ${upload.state}`);
        if (upload.thumbnail) {
          const image = make("img");
          image.src = upload.thumbnail;
          image.alt = "";
          chip.append(image);
        }
        chip.append(make("span", "name", upload.name));
        if (upload.state === "uploading") {
          const bar = make("progress");
          bar.max = upload.total || 1;
          bar.value = upload.loaded;
          bar.setAttribute("aria-label", t("uploading", { name: upload.name }));
          chip.append(bar);
        }
        const remove = make("button", "remove", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", t("removeFile", { name: upload.name }));
        remove.addEventListener("click", () => handlers.onRemoveFile(upload.key));
        chip.append(remove);
        return chip;
      }),
    );
  }

  function renderMessages(messages) {
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const keep = new Set(messages.map((m) => m.key));
    for (const [key, item] of rows) {
      if (!keep.has(key)) {
        item.remove();
        rows.delete(key);
      }
    }
    let previous = null;
    for (const message of messages) {
      let item = rows.get(message.key);
      if (!item) {
        item = row(message);
        rows.set(message.key, item);
      }
      item.className = [message.mine ? "mine" : "", message.kind, message.pending ? "pending" : ""]
        .filter(Boolean)
        .join(" ");
      const status = message.pending ? t("sending") : message.seen ? t("seen") : "";
      const time = formatTime(message.ts, locale);
      item.lastChild.textContent = [message.name, time, status].filter(Boolean).join(" · ");
      const expected = previous ? previous.nextSibling : list.firstChild;
      if (expected !== item) list.insertBefore(item, expected);
      previous = item;
    }
    if (nearBottom) log.scrollTop = log.scrollHeight;
  }

  // --- The pre-chat and offline forms ----------------------------------------------------

  function field({ key, label: text, type, required, options = [] }) {
    const wrap = make("div", `field ${type}`);
    const id = `f-${key}`;
    const error = make("p", "field-error");
    error.id = `e-${key}`;
    error.hidden = true;
    let control;
    if (type === "select") {
      control = make("select");
      const none = make("option", null, t("choose"));
      none.value = "";
      control.append(none, ...options.map((option) => Object.assign(make("option", null, option), { value: option })));
    } else if (type === "message") {
      control = make("textarea");
      control.rows = 3;
      control.maxLength = 4000;
    } else {
      control = make("input");
      control.type = type === "checkbox" ? "checkbox" : type === "email" ? "email" : "text";
      if (type === "number") control.inputMode = "decimal";
      if (type === "email") control.autocomplete = "email";
      if (key === "name") control.autocomplete = "name";
    }
    control.id = id;
    control.name = key;
    if (required) control.setAttribute("aria-required", "true");
    control.setAttribute("aria-describedby", error.id);
    const caption = make("label", null, text);
    caption.htmlFor = id;
    if (!required) caption.append(make("span", "opt", ` (${t("optional")})`));
    if (type === "checkbox") wrap.append(control, caption, error);
    else wrap.append(caption, control, error);
    return wrap;
  }

  function buildIntake(mode, prechat) {
    const fields = [];
    if (mode === "offline") {
      fields.push(
        { key: "name", label: t("name"), type: "text" },
        { key: "email", label: t("email"), type: "email", required: true },
        { key: "message", label: t("message"), type: "message", required: true },
      );
    } else {
      if (prechat.mode !== "none") {
        fields.push(
          { key: "name", label: t("name"), type: "text" },
          { key: "email", label: t("email"), type: "email", required: prechat.mode === "email_required" },
        );
      }
      fields.push(...prechat.fields.map((f) => ({ ...f, key: `q-${f.key}`, question: f.key })));
    }
    const intro = make("p", "intro", t(mode === "offline" ? "offlineIntro" : "prechatIntro"));
    const problem = make("p", "form-problem");
    problem.setAttribute("role", "alert");
    problem.hidden = true;
    const submitButton = make("button", "primary", t(mode === "offline" ? "sendMessage" : "startChat"));
    submitButton.type = "submit";
    intake.replaceChildren(intro, problem, ...fields.map(field), submitButton);
    intake.dataset.kind = mode;
    intake.onsubmit = async (event) => {
      event.preventDefault();
      const values = mode === "offline" ? {} : { answers: {} };
      for (const spec of fields) {
        const control = intake.querySelector(`#f-${spec.key}`);
        const value = control.type === "checkbox" ? control.checked : control.value;
        if (spec.question) values.answers[spec.question] = value;
        else values[spec.key] = value;
      }
      // What the browser can tell is checked here first (the server checks everything again).
      const problems = {};
      for (const spec of fields) {
        const value = spec.question ? values.answers[spec.question] : values[spec.key];
        const name = spec.question ?? spec.key;
        const text = typeof value === "string" ? value.trim() : value;
        if (spec.required && !text) problems[name] = "fieldRequired";
        else if (text && spec.type === "email" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) problems[name] = "fieldEmail";
        else if (text && spec.type === "number" && !/^-?\d+([.,]\d+)?$/.test(text)) problems[name] = "fieldNumber";
      }
      let answer = { ok: false, fields: problems, local: true };
      if (!Object.keys(problems).length) {
        // Not `disabled`: a disabled button drops the focus, which must stay in the panel.
        if (submitButton.getAttribute("aria-disabled") === "true") return;
        submitButton.setAttribute("aria-disabled", "true");
        answer = await handlers.onForm(mode === "offline" ? "offline" : "prechat", values);
        submitButton.removeAttribute("aria-disabled");
      }
      if (answer.ok) return;
      let first = null;
      for (const spec of fields) {
        const control = intake.querySelector(`#f-${spec.key}`);
        const error = intake.querySelector(`#e-${spec.key}`);
        const problemText = answer.fields[spec.question ?? spec.key];
        error.hidden = !problemText;
        error.textContent = problemText ? t(answer.local ? problemText : problemKey(problemText)) : "";
        control.setAttribute("aria-invalid", problemText ? "true" : "false");
        if (problemText && !first) first = control;
      }
      problem.textContent = t(first ? "formInvalid" : "formFailed");
      problem.hidden = false;
      (first ?? submitButton).focus();
    };
  }

  function showMode(state) {
    const mode = state.mode === "hidden" ? "chat" : state.mode;
    const sent = mode === "offline" && state.offlineSent;
    if (mode === shownMode && sent === shownSent) return;
    const hadFocus = root.activeElement !== null && root.activeElement !== launcher;
    shownMode = mode;
    shownSent = sent;
    form.hidden = mode !== "chat";
    typing.hidden = mode !== "chat";
    panel.classList.toggle("asking", mode !== "chat");
    intake.hidden = mode === "chat";
    if (sent) {
      const thanks = make("p", "thanks", t("offlineSent"));
      thanks.setAttribute("role", "status");
      const again = make("button", "link", t("sendAnother"));
      again.type = "button";
      again.addEventListener("click", () => handlers.onOfflineAgain());
      intake.replaceChildren(thanks, again);
      intake.onsubmit = (event) => event.preventDefault();
      if (hadFocus) again.focus();
    } else if (mode !== "chat") {
      buildIntake(mode, state.prechat ?? { mode: "none", fields: [] });
      if (hadFocus || isOpen) intake.querySelector("input, select, textarea")?.focus();
    } else if (hadFocus) {
      input.focus();
    }
  }

  return {
    open,
    close,
    get isOpen() {
      return isOpen;
    },
    get listing() {
      return panel.classList.contains("listing");
    },
    update(state) {
      if (state.line) {
        line.className = `line ${state.line.state}`;
        if (lineText.textContent !== state.line.text) lineText.textContent = state.line.text;
        awayMessage.hidden = !state.awayMessage;
        awayMessage.textContent = state.awayMessage ?? "";
        // Out of hours on a site that hides its launcher: no widget, unless a chat is open.
        host.classList.toggle("gone", state.mode === "hidden" && !isOpen);
        showMode(state);
      }
      renderMessages(state.messages);
      // A form with no conversation yet takes the panel; below messages it shares it.
      panel.classList.toggle("empty", state.messages.length === 0);
      renderUploads(state.uploads ?? []);
      earlier.hidden = !state.hasMore;
      transcript.hidden = state.messages.length === 0;
      typing.textContent = state.typing ? t("typing", { name: state.typing }) : "";
      showRating(state.rating);
      const text = { offline: t("offline"), lost: t("lost"), limited: t("limited"), closed: t("closed") }[
        state.status
      ];
      notice.hidden = !text || state.status === "connecting";
      notice.className = `notice ${state.status}`;
      notice.textContent = text ?? "";
      badge.hidden = isOpen || state.unread === 0;
      badge.textContent = state.unread > 99 ? "99+" : String(state.unread);
      launcher.setAttribute(
        "aria-label",
        isOpen ? t("closeChat") : state.unread ? `${t("openChat")} (${t("unread", { n: state.unread })})` : t("openChat"),
      );
    },
    announce(text) {
      announcer.textContent = text;
    },
    askTranscriptEmail() {
      transcriptBox.hidden = false;
      transcriptEmail.focus();
    },
    transcriptAsked() {
      transcriptBox.hidden = true;
    },
    flash(text) {
      flash.textContent = text;
      flash.hidden = false;
      window.clearTimeout(flashTimer);
      flashTimer = window.setTimeout(() => (flash.hidden = true), 6000);
    },
    // The visitor's conversations (a promise of them) and the room shown, drawn by
    // conversations.js, fetched the first time (env.loadList).
    showList(conversations, current) {
      panel.classList.add("listing");
      back.setAttribute("aria-expanded", "true");
      conversations.catch(() => {}); // a failure is drawn by the list (or not at all): no console error
      listed ??= loadList().then(({ listView }) =>
        listView({ window, root, header, make, icon, t, locale, plainText, site, handlers }),
      );
      listed.then(
        (list) => panel.classList.contains("listing") && list.show(conversations, current),
        () => {
          listed = null;
          showChat();
          this.flash(t("listFailed"));
        },
      );
    },
    showChat,
    destroy() {
      window.clearTimeout(flashTimer);
      document.removeEventListener("visibilitychange", onVisibility);
      window.removeEventListener("resize", fitInput);
      emojiPicker?.then((opened) => opened.destroy(), () => {});
      host.remove();
    },
  };
}

// Constructed stylesheets are not subject to CSP's style-src (no inline <style>, no style=""),
// and every browser Parley supports has them; a very old one falls back to a <style> element,
// which works wherever the page's CSP allows inline styles.
function adoptStyles(window, root, css) {
  if ("adoptedStyleSheets" in root && typeof window.CSSStyleSheet === "function") {
    try {
      const sheet = new window.CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
      return sheet;
    } catch {
      // Constructable stylesheets exist but refused: use the fallback.
    }
  }
  const style = window.document.createElement("style");
  style.textContent = css;
  root.append(style);
  return style.sheet;
}

// An empty rule at the end of the widget's stylesheet, for a size the script computes; null
// where the sheet cannot take one (the box then keeps its CSS height and scrolls).
function ownRule(sheet, selector) {
  // A rule at the end of the sheet, and a function that replaces its declarations.
  let index;
  try {
    index = sheet.insertRule(`${selector} {}`, sheet.cssRules.length);
  } catch {
    return null;
  }
  return (declarations) => {
    sheet.deleteRule(index);
    sheet.insertRule(`${selector} {${declarations}}`, index);
  };
}

// After an agent closed the conversation: 1 to 5 stars (a native radio group, so arrow keys move
// between them and a screen reader says "3 out of 5"), an optional comment, send or not now.
function ratingPrompt(make, t, handlers) {
  const section = make("section", "rate");
  section.setAttribute("aria-labelledby", "rate-title");
  section.hidden = true;
  const form = make("form");
  const stars = make("fieldset", "stars");
  const legend = make("legend", null, t("rateAsk"));
  legend.id = "rate-title";
  stars.append(legend);
  const labels = [];
  for (let score = 1; score <= 5; score++) {
    const radio = make("input", "sr");
    radio.type = "radio";
    radio.name = "score";
    radio.value = String(score);
    radio.id = `score-${score}`;
    const label = make("label");
    label.htmlFor = radio.id;
    const star = make("span", null, "★");
    star.setAttribute("aria-hidden", "true");
    label.append(star, make("span", "sr", t("rateScore", { n: score })));
    labels.push(label);
    stars.append(radio, label);
  }
  const commentLabel = make("label", "sr", t("rateComment"));
  commentLabel.htmlFor = "rate-comment";
  const comment = make("textarea");
  comment.id = "rate-comment";
  comment.rows = 2;
  comment.maxLength = 1000;
  comment.placeholder = t("rateComment");
  const submit = make("button", "accept", t("rateSend"));
  submit.type = "submit";
  submit.disabled = true;
  const later = make("button", "decline", t("rateLater"));
  later.type = "button";
  const actions = make("div", "actions");
  actions.append(submit, later);
  form.append(stars, commentLabel, comment, actions);
  const thanks = make("p", "thanks", t("rateThanks"));
  section.append(form, thanks);

  const chosen = () => Number(form.querySelector("input:checked")?.value ?? 0);
  stars.addEventListener("change", () => {
    const score = chosen();
    labels.forEach((label, index) => label.classList.toggle("on", index < score));
    submit.disabled = !score;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (chosen()) handlers.onRate(chosen(), comment.value);
  });
  later.addEventListener("click", () => handlers.onRateLater());

  return {
    section,
    update(rating) {
      section.hidden = !rating;
      form.hidden = rating === "done";
      thanks.hidden = rating !== "done";
      submit.disabled = rating === "sending" || !chosen();
      if (!rating) {
        form.reset();
        labels.forEach((label) => label.classList.remove("on"));
      }
    },
  };
}
