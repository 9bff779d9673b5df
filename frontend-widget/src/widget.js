// The widget's brain: session, socket, conversation state and the public API's effects. It knows
// the view only through the small interface `createView` returns, so it runs in Node as well.

import { cleanStatus, panelMode, statusLine, untilChange } from "./availability.js";
import { createBackoff } from "./backoff.js";
import { createConnection } from "./connection.js";
import { addStrings, hasStrings, pickLocale, translator } from "./i18n.js";
import { plainText } from "./markdown.js";
import { createOutbox } from "./outbox.js";
import { createUploads } from "./uploads.js";
import {
  ROOM_PATTERN,
  chatSocketUrl,
  checkText,
  MAX_RATING_COMMENT,
  contextFrame,
  historyFrame,
  messageFrame,
  readFrame,
  statusFrame,
  transcriptFrame,
  typingFrame,
} from "./protocol.js";
import { postForm } from "./forms.js";
import { describeSessionError, requestConversations, requestSession, requestSite, sendRating } from "./session.js";
import { createStore } from "./storage.js";

const TYPING_REFRESH = 3000; // resend `typing: true` at most this often while typing
const TYPING_IDLE = 4000; // then `typing: false` after this long without a key
const TYPING_SHOWN = 6000; // an agent's indicator fades if no update comes (a lost `false`)
const DRAFT_EVERY = 500; // with the typing preview, the draft goes at most this often
const NAVIGATION_DEBOUNCE = 500; // a router's several history calls make one `context` frame
const SESSION_ATTEMPTS = 5; // at page load, for a session answer that may pass (5xx, 429)
const EVENTS = ["ready", "open", "close", "message", "unread", "status", "error"];

function cleanUser(user) {
  if (!user || typeof user !== "object" || user.id == null || user.id === "") return null;
  const clean = { id: String(user.id) };
  for (const field of ["name", "email", "hash"]) {
    if (typeof user[field] === "string" && user[field]) clean[field] = user[field];
  }
  // Custom attributes: the server keeps scalar values only (PROTOCOL.md, Visitor context).
  const attributes = user.attributes;
  if (attributes && typeof attributes === "object" && !Array.isArray(attributes)) {
    clean.attributes = Object.fromEntries(
      Object.entries(attributes).filter(([, value]) => value === null || ["string", "number", "boolean"].includes(typeof value)),
    );
  }
  return clean;
}

export function createWidget({ config, env }) {
  const { timers, console } = env;
  const store = createStore(env.storage, config.siteKey);
  const listeners = Object.fromEntries(EVENTS.map((name) => [name, []]));
  let user = null;
  let session = null;
  let room = null;
  let outbox = null;
  let uploads = null;
  let uploadList = [];
  const failuresShown = new Set();
  let connection = null;
  let view = null;
  let t = translator("en");
  let locale = "en";
  let phase = "idle"; // idle, starting, consent, running, failed, shutdown
  let wantOpen = config.open === true || store.get("open") === true;
  let reportedFatal = false;

  // Conversation state, rebuilt for each room.
  let messages = new Map(); // id -> message
  let visitorId = null;
  let hasMore = false;
  let readUpTo = 0;
  let seenUpTo = 0;
  let sentReadUpTo = 0;
  let typingName = null;
  let typingTimer = null;
  let typingSentAt = 0;
  let typingIdleTimer = null;
  let draftTimer = null;
  let draftSent = "";
  let reportedPlace = "";
  let navigationTimer = null;
  let status = "connecting";
  let resendTimer = null;
  let seenBefore = false;
  let networkLost = false; // "lost" was said, and "back" has not been yet
  let rating = null; // null, or after an agent closed the conversation: "asking", "sending", "done"
  let siteStatus = cleanStatus(null); // who answers and when (PROTOCOL.md, Status)
  let statusTimer = null;
  let offlineSent = false;

  const emit = (event, payload) => {
    for (const listener of listeners[event] ?? []) {
      try {
        listener(payload);
      } catch (error) {
        console.error("Parley: a Parley('on', '%s') callback threw:", event, error);
      }
    }
  };

  const isMine = (message) =>
    message.author.kind === "visitor" && visitorId != null && message.author.id === visitorId;

  const lastId = () => {
    let max = 0;
    for (const id of messages.keys()) max = Math.max(max, id);
    return max;
  };

  const unreadCount = () => {
    let count = 0;
    for (const message of messages.values()) {
      if (message.id > readUpTo && !isMine(message) && message.author.kind !== "system") count++;
    }
    return count;
  };

  function viewState() {
    const sorted = [...messages.values()].sort((a, b) => a.id - b.id);
    let seenKey = null;
    for (const message of sorted) {
      if (isMine(message) && message.id <= seenUpTo) seenKey = `m${message.id}`;
    }
    const list = sorted.map((message) => ({
      key: `m${message.id}`,
      mine: isMine(message),
      kind: message.author.kind,
      name: isMine(message) ? t("you") : message.author.name || t("agent"),
      text: message.text,
      attachments: message.attachments ?? [],
      ts: message.ts,
      pending: false,
      seen: `m${message.id}` === seenKey,
    }));
    for (const item of outbox ? outbox.pending() : []) {
      if ([...messages.values()].some((m) => m.client_id === item.client_id)) continue;
      list.push({
        key: `c${item.client_id}`,
        mine: true,
        kind: "visitor",
        name: t("you"),
        text: item.text,
        attachments: item.attachments ?? [],
        ts: item.created,
        pending: true,
        seen: false,
      });
    }
    const line = statusLine(siteStatus, t, locale, new Date(env.now()));
    const mode = session
      ? panelMode({ site: session.site, status: siteStatus, prechat: session.prechat, hasMessages: list.length > 0 })
      : "chat";
    return {
      messages: list,
      typing: typingName,
      status,
      unread: unreadCount(),
      hasMore,
      line,
      awayMessage: line.state === "online" ? "" : (session?.site.away_message ?? ""),
      mode,
      prechat: session?.prechat ?? null,
      offlineSent,
      rating,
      uploads: uploadList,
    };
  }

  // The status is asked again when the site's hours open or close (`changes_at`).
  function setSiteStatus(next) {
    siteStatus = cleanStatus(next);
    timers.clearTimeout(statusTimer);
    const wait = untilChange(siteStatus, env.now());
    statusTimer = wait == null ? null : timers.setTimeout(() => connection?.send(statusFrame()), wait);
  }

  let lastUnread = -1;
  function render() {
    if (!view) return;
    const state = viewState();
    view.update(state);
    if (state.unread !== lastUnread) {
      lastUnread = state.unread;
      emit("unread", state.unread);
    }
  }

  // The visitor has seen everything shown while the panel is open on the conversation (not
  // the list of them) and the page visible.
  function markRead() {
    if (!view?.isOpen || view.listing || env.hidden?.()) return;
    const last = lastId();
    if (last > readUpTo) {
      readUpTo = last;
      store.set(`read:${room}`, readUpTo);
    }
    if (last > sentReadUpTo && connection?.send(readFrame(last))) sentReadUpTo = last;
  }

  function addMessage(message, { live }) {
    const known = messages.has(message.id);
    messages.set(message.id, message);
    if (message.client_id) outbox.ack(message.client_id);
    if (known || !live) return;
    if (!isMine(message)) {
      if (typingName && message.author.name === typingName) typingName = null;
      if (message.author.kind !== "system") {
        view?.announce(t("newMessage", { name: message.author.name || t("agent"), text: plainText(message.text) }));
      }
    }
    emit("message", {
      id: message.id,
      text: message.text,
      attachments: (message.attachments ?? []).map((file) => ({ ...file })),
      ts: message.ts,
      author: { ...message.author },
      mine: isMine(message),
    });
  }

  function resendPending() {
    for (const item of outbox.pending()) {
      const frame = messageFrame(item.client_id, item.text, item.attachments ?? []);
      if (!connection.send(frame, { awaitsReply: true })) return;
    }
  }

  const FRAMES = {
    ready(frame) {
      visitorId = frame.visitor_id ?? session.visitor_id ?? visitorId;
      if (frame.availability) setSiteStatus(frame.availability);
      // How far the agents have read, as stored: "Seen" survives a reload.
      seenUpTo = Math.max(seenUpTo, frame.agent_read_up_to ?? 0);
      for (const message of frame.messages) addMessage(message, { live: seenBefore });
      if (!seenBefore) hasMore = frame.has_more;
      seenBefore = true;
      // Closed while this page was away: ask, unless this browser already answered (or said
      // "not now") for this conversation. Public rooms are never rated.
      if (frame.closed && !config.room && rating === null && !store.get(`rating:${room}`)) {
        rating = "asking";
      }
      resendPending();
      markRead();
      reportPlace();
      emit("status", "online");
    },
    message(frame) {
      // A message after the close reopened the conversation: the question is no longer asked.
      if (rating === "asking" && !messages.has(frame.id)) rating = null;
      addMessage(frame, { live: true });
      markRead();
    },
    closed() {
      if (rating === "sending" || config.room) return;
      store.remove(`rating:${room}`); // closed again: a new question
      rating = "asking";
      view?.announce(t("rateAsk"));
    },
    ack(frame) {
      const item = outbox.pending().find((pending) => pending.client_id === frame.client_id);
      if (item && !messages.has(frame.id)) {
        messages.set(frame.id, {
          id: frame.id,
          client_id: item.client_id,
          text: item.text,
          attachments: item.attachments ?? [],
          ts: frame.ts ?? item.created,
          author: { kind: "visitor", id: visitorId, name: "" },
        });
      }
      outbox.ack(frame.client_id);
    },
    typing(frame) {
      if (frame.author.kind === "visitor" && frame.author.id === visitorId) return;
      timers.clearTimeout(typingTimer);
      typingName = frame.state ? frame.author.name || t("someone") : null;
      if (frame.state) {
        typingTimer = timers.setTimeout(() => {
          typingName = null;
          render();
        }, TYPING_SHOWN);
      }
    },
    read(frame) {
      if (frame.author.kind === "visitor" && frame.author.id === visitorId) return;
      seenUpTo = Math.max(seenUpTo, frame.up_to);
    },
    presence(frame) {
      siteStatus = cleanStatus({ ...siteStatus, agents: frame.agents, reply_minutes: frame.reply_minutes });
    },
    status(frame) {
      setSiteStatus(frame.status);
    },
    history(frame) {
      for (const message of frame.messages) addMessage(message, { live: false });
      hasMore = frame.has_more;
    },
    transcript(frame) {
      view?.transcriptAsked();
      view?.flash(t("transcriptSent", { email: frame.email }));
    },
    error(frame) {
      if (frame.code === "no_email") {
        view?.askTranscriptEmail(); // a transcript asked for by a visitor who left no address
      } else if (frame.code === "transcript_recent") {
        view?.flash(t("transcriptRecent"));
      } else if (frame.code === "rate_limited") {
        // Past a frame limit the wait is seconds; past a message budget, minutes or more.
        view?.flash(t((frame.retry_after ?? 5) > 60 ? "slowDown" : "rateLimited"));
        timers.clearTimeout(resendTimer);
        resendTimer = timers.setTimeout(resendPending, (frame.retry_after ?? 5) * 1000);
      } else if (frame.code === "invalid_attachment" && frame.client_id) {
        // Its files are gone (erased, or sent already): resending it would be refused again.
        outbox.ack(frame.client_id);
        view?.flash(t("uploadFailed", { name: t("file") }));
      } else if (frame.code === "plan_limit") {
        view?.flash(t("full")); // the tenant's month is used up: retrying now would not help
      } else {
        console.warn(`Parley: the server refused a frame: ${frame.code} ${frame.message}`);
      }
    },
  };

  function onFrame(frame) {
    FRAMES[frame.type]?.(frame);
    render();
  }

  function onStatus(next, detail) {
    // A notice that appears or goes away is not read out by every screen reader: say it.
    if (next === "lost" && !networkLost) view?.announce(t("lost"));
    else if (next === "online" && networkLost) view?.announce(t("back"));
    if (next === "lost" || next === "online") networkLost = next === "lost";
    status = next;
    if (next === "online") uploads?.retry();
    if (next === "closed" && detail.code === 4403) {
      console.error(
        `Parley: the chat for site key "${config.siteKey}" was closed by the server: this visitor may not join room "${room}", or the site key was revoked.`,
      );
    } else if (next === "closed" && detail.error) {
      report(detail.error);
    }
    if (next !== "online") emit("status", next);
    render();
  }

  function report(error) {
    emit("error", { code: error.code, status: error.status });
    if (reportedFatal) return;
    reportedFatal = true;
    console.error(
      describeSessionError(error, { siteKey: config.siteKey, origin: env.origin, baseUrl: config.baseUrl }),
    );
  }

  async function fetchSession(choice) {
    const saved = store.get("session");
    const savedToken = saved && typeof saved.token === "string" ? saved.token : undefined;
    const savedUser = saved?.user_id ?? null;
    // The same identity keeps its token. An anonymous visitor's token goes along when they
    // identify, so the conversation can follow them; one user's token never goes with another's.
    const visitorToken = savedUser === (user?.id ?? null) || savedUser === null ? savedToken : undefined;
    const context = env.context?.();
    const request = (token) =>
      requestSession({
        fetch: env.fetch,
        baseUrl: config.baseUrl,
        siteKey: config.siteKey,
        visitorToken: token,
        user,
        context,
        consent: store.get("consent") != null,
        choice,
      });
    try {
      return await request(visitorToken);
    } catch (error) {
      // A token the server no longer knows is not worth failing over: start afresh.
      if (!visitorToken || error.code !== "invalid_token") throw error;
      store.remove("session");
      return request(undefined);
    }
  }

  function adopt(answer) {
    if (session && answer.conversation !== session.conversation && !config.room) resetConversation();
    session = answer;
    store.set("session", {
      token: answer.token,
      expires_at: answer.expires_at,
      visitor_id: answer.visitor_id,
      conversation: answer.conversation,
      user_id: user?.id ?? null,
    });
  }

  function resetConversation() {
    rating = typingName = null;
    messages = new Map();
    hasMore = false;
    seenUpTo = 0;
    sentReadUpTo = 0;
    seenBefore = false;
  }

  function stopTyping() {
    timers.clearTimeout(typingIdleTimer);
    timers.clearTimeout(draftTimer);
    typingIdleTimer = draftTimer = null;
    if (typingSentAt) {
      typingSentAt = 0;
      draftSent = "";
      connection?.send(typingFrame(false));
    }
  }

  // The page the visitor is on, told once per change (the session told the first one).
  function reportPlace() {
    const place = env.place?.();
    if (!place) return;
    const key = `${place.page_url}\n${place.page_title}`;
    if (key !== reportedPlace && connection?.send(contextFrame(place))) reportedPlace = key;
  }

  function onNavigate() {
    timers.clearTimeout(navigationTimer);
    navigationTimer = timers.setTimeout(reportPlace, NAVIGATION_DEBOUNCE);
  }

  // With the site's typing preview on, the draft itself, at most every DRAFT_EVERY ms.
  function sendDraft(readDraft) {
    draftTimer = null;
    const draft = readDraft().trim();
    if (!draft) return stopTyping();
    if (draft !== draftSent && connection?.send(typingFrame(true, draft))) {
      draftSent = draft;
      typingSentAt = env.now();
    }
  }

  const handlers = {
    onOpen() {
      store.set("open", true);
      markRead();
      render();
      emit("open");
    },
    onClose() {
      store.set("open", false);
      stopTyping();
      emit("close");
    },
    onSend(raw) {
      const checked = checkText(raw, { files: uploadList.some((upload) => upload.state === "ready") });
      if (checked.error) {
        if (checked.error === "too_long") view?.flash(t("tooLong"));
        return false;
      }
      stopTyping();
      const files = uploads.take();
      const item = outbox.add(checked.text, files);
      connection.send(messageFrame(item.client_id, item.text, files), { awaitsReply: true });
      render();
      return true;
    },
    onFiles(files) {
      uploads?.add(files);
    },
    onRemoveFile(key) {
      uploads?.cancel(key);
    },
    onInput(readDraft) {
      if (session?.site.typing_preview && readDraft) {
        if (!draftTimer) {
          const waited = env.now() - typingSentAt;
          draftTimer = timers.setTimeout(() => sendDraft(readDraft), Math.max(0, DRAFT_EVERY - waited));
        }
        timers.clearTimeout(typingIdleTimer);
        typingIdleTimer = timers.setTimeout(stopTyping, TYPING_IDLE);
        return;
      }
      const now = env.now();
      if (now - typingSentAt > TYPING_REFRESH && connection.send(typingFrame(true))) typingSentAt = now;
      timers.clearTimeout(typingIdleTimer);
      typingIdleTimer = timers.setTimeout(stopTyping, TYPING_IDLE);
    },
    onEarlier() {
      const first = Math.min(...messages.keys());
      if (Number.isFinite(first)) connection.send(historyFrame(first));
    },
    onVisible() {
      markRead();
      render();
    },
    onList: () => showConversations(),
    onPick: (id) => (id === room ? view.showChat() : switchTo({ conversation: id })),
    onNew: () => switchTo({ new_conversation: true }),
    // The visitor's rating of the closed conversation: 1..5, the comment optional.
    async onRate(score, comment) {
      if (rating !== "asking" || !Number.isInteger(score) || score < 1 || score > 5) return false;
      const text = String(comment ?? "").trim();
      if ([...text].length > MAX_RATING_COMMENT) {
        view?.flash(t("tooLong"));
        return false;
      }
      rating = "sending";
      render();
      try {
        await sendRating({
          fetch: env.fetch,
          baseUrl: config.baseUrl,
          siteKey: config.siteKey,
          token: session.token,
          score,
          comment: text,
        });
        rating = "done";
        store.set(`rating:${room}`, "given");
        view?.announce(t("rateThanks"));
      } catch (error) {
        // Reopened meanwhile (409): nothing to rate any more; else the visitor may try again.
        rating = error.status === 409 ? null : "asking";
        if (rating) view?.flash(t("rateFailed"));
      }
      render();
      return rating === "done";
    },
    // "Email me this conversation": the server answers `transcript` (where it goes) or
    // `no_email` (then the panel asks for an address, and this is called again with it).
    onTranscript(email) {
      if (!connection?.send(transcriptFrame(email))) view?.flash(t("lost"));
    },
    onRateLater() {
      if (rating === "asking") {
        rating = null;
        store.set(`rating:${room}`, "later");
      }
      render();
    },
    // A form of the panel (PROTOCOL.md, Pre-chat and offline forms): {ok} or {ok: false, fields}.
    async onForm(kind, values) {
      const body = { site_key: config.siteKey, visitor_token: session.token, ...values };
      if (kind === "offline") body.client_id = offlineClientId;
      const answer = await postForm({ fetch: env.fetch, baseUrl: config.baseUrl, path: kind, body });
      if (answer.ok && kind === "prechat") session.prechat = { ...session.prechat, done: true };
      if (answer.ok && kind === "offline") {
        offlineSent = true;
        offlineClientId = newClientId();
      }
      render();
      return answer;
    },
    onOfflineAgain() {
      offlineSent = false;
      render();
    },
  };
  const newClientId = () => `offline-${env.now().toString(36)}-${Math.floor(env.random() * 1e9).toString(36)}`;
  let offlineClientId = newClientId();

  // An outage or a rate limit passes: a few tries. A refusal, or a request the browser blocked
  // (possibly CORS: the origin is not allowed), would only fail again.
  async function withRetries(request, mine) {
    const backoff = createBackoff({ base: 1000, random: env.random });
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        if (mine !== generation) throw error;
        const passing = !error.fatal && error.code !== "unreachable" && error.code !== "bad_response";
        if (!passing || attempt >= SESSION_ATTEMPTS) throw error;
        const delay = error.retryAfter != null ? error.retryAfter * 1000 : backoff.next();
        await new Promise((resolve) => timers.setTimeout(resolve, delay));
        if (mine !== generation) throw error;
      }
    }
  }

  // The site asks the visitor first (PROTOCOL.md, Consent). Until they accept, the widget writes
  // nothing to the browser's storage, asks for no session and opens no socket: the consent
  // view's handlers touch no store. Declining closes the panel and keeps nothing; the launcher
  // asks again when opened.
  // The visitor's language; a language other than English is fetched first (env.loadStrings),
  // and English is spoken while it cannot be.
  async function useLocale(candidates) {
    locale = pickLocale(candidates);
    if (!hasStrings(locale)) {
      try {
        addStrings(locale, await env.loadStrings(locale));
      } catch {
        // English, then: the widget still works.
      }
    }
    t = translator(locale);
  }

  async function askConsent(mine) {
    let described;
    try {
      described = await withRetries(
        () => requestSite({ fetch: env.fetch, baseUrl: config.baseUrl, siteKey: config.siteKey }),
        mine,
      );
    } catch (error) {
      if (mine !== generation) return;
      if (waitForNetwork(error)) return;
      phase = "failed";
      report(error);
      return;
    }
    if (mine !== generation) return;
    if (!described.consent_required) return startSession(mine);
    phase = "consent";
    await useLocale([config.locale, described.locale, ...env.languages]);
    if (mine !== generation) return;
    view = env.createView({
      site: { ...described, typing_preview: false },
      t,
      locale,
      consent: { text: described.consent_text || t("consentText") },
      handlers: {
        onOpen: () => emit("open"),
        onClose: () => emit("close"),
        onConsent(accepted) {
          if (!accepted) {
            view.announce(t("consentDeclined"));
            view.close();
            return;
          }
          store.set("consent", { accepted_at: new Date(env.now()).toISOString() });
          view.destroy();
          view = null;
          wantOpen = true;
          focusOnOpen = true;
          phase = "idle";
          start();
        },
      },
    });
    if (wantOpen) view.open({ focus: false });
  }

  // A page loaded (or left) without a network cannot reach Parley; that says nothing about the
  // embed, so the widget waits for the browser's `online` and starts then, with no error.
  let awaitingNetwork = false;
  function waitForNetwork(error) {
    if (error.code !== "unreachable" || env.online?.() !== false) return false;
    awaitingNetwork = true;
    phase = "idle";
    return true;
  }

  let generation = 0;
  let navigationWatched = false;
  let focusOnOpen = false;
  async function start() {
    if (phase !== "idle") return;
    phase = "starting";
    // identify() or shutdown() while the session request is out makes this start stale.
    const mine = ++generation;
    // A visitor this browser knows nothing of may be on a site that asks consent first: ask the
    // site before anything that creates state (a returning visitor has a session or a consent).
    if (store.get("consent") == null && store.get("session") == null) return askConsent(mine);
    return startSession(mine);
  }

  async function startSession(mine) {
    let answer;
    try {
      answer = await withRetries(fetchSession, mine);
    } catch (error) {
      if (mine !== generation) return;
      // The site began asking consent after this visitor's last visit.
      if (error.code === "consent_required") return askConsent(mine);
      if (waitForNetwork(error)) return;
      phase = "failed";
      report(error);
      return;
    }
    if (mine !== generation) return;
    session = null;
    adopt(answer);
    room = config.room || session.conversation;
    if (!ROOM_PATTERN.test(room)) {
      phase = "failed";
      console.error(`Parley: "${room}" is not a valid room name (letters, digits, _ and -, up to 64).`);
      return;
    }
    visitorId = session.visitor_id;
    setSiteStatus(session.site.status);
    const first = env.place?.();
    reportedPlace = first ? `${first.page_url}\n${first.page_title}` : "";
    await useLocale([config.locale, session.site.locale, ...env.languages]);
    if (mine !== generation) return;
    view = env.createView({ site: session.site, t, locale, handlers, conversations: !config.room });
    phase = "running";
    if (!navigationWatched) {
      navigationWatched = true;
      env.onNavigate?.(() => phase === "running" && onNavigate());
    }
    enterRoom(mine);
    if (wantOpen) view.open({ focus: focusOnOpen });
    focusOnOpen = false;
    emit("ready", { visitor_id: visitorId, room });
  }

  // The room's own state (its outbox, uploads and socket), for the session's conversation: at
  // start, and again when the visitor opens another of their conversations.
  function enterRoom(mine) {
    room = config.room || session.conversation;
    readUpTo = Number(store.get(`read:${room}`, 0)) || 0;
    outbox = createOutbox(store, { key: `outbox:${room}`, now: env.now });
    uploads = createUploads({
      XMLHttpRequest: env.XMLHttpRequest,
      uploadUrl: () => {
        const query = new URLSearchParams({ site_key: config.siteKey });
        if (config.room) query.set("room", config.room);
        return `${config.baseUrl}/api/widget/v1/attachments?${query}`;
      },
      token: () => session.token,
      onChange: onUploads,
    });
    connection = createConnection({
      WebSocket: env.WebSocket,
      timers,
      random: env.random,
      target: () => ({
        url: chatSocketUrl({
          wsUrl: session.ws_url,
          baseUrl: config.baseUrl,
          room,
          siteKey: config.siteKey,
        }),
        token: session.token,
        since: seenBefore ? lastId() || undefined : undefined,
      }),
      renew: async () => {
        const answer = await fetchSession();
        if (mine === generation) adopt(answer);
      },
      onFrame,
      onStatus,
    });
    render();
    connection.start();
  }

  function leaveRoom() {
    stopTyping();
    connection?.stop();
    uploads?.destroy();
    uploadList = [];
    timers.clearTimeout(resendTimer);
  }

  // "Your conversations" (PROTOCOL.md, Several conversations): the list, then the one picked or
  // a new one. Switching asks for a session in that conversation (its token names it, so the
  // socket, uploads, rating and transcript follow) and keeps the panel.
  function showConversations() {
    const list = requestConversations({
      fetch: env.fetch,
      baseUrl: config.baseUrl,
      siteKey: config.siteKey,
      token: session.token,
    });
    view.showList(list, room);
  }

  let switching = false; // a second click while one switch is on its way does nothing
  async function switchTo(choice) {
    if (switching) return;
    switching = true;
    const mine = generation;
    let answer;
    try {
      answer = await fetchSession(choice);
    } catch {
      if (mine === generation) view?.flash(t("listFailed"));
      return;
    } finally {
      switching = false;
    }
    if (mine !== generation) return;
    const moving = answer.conversation !== room;
    if (moving) leaveRoom();
    adopt(answer);
    if (moving) enterRoom(mine);
    view.showChat();
  }

  // A refused upload says why, once; the network's failures are retried after a reconnect.
  function onUploads(list) {
    uploadList = list;
    for (const upload of list) {
      if (upload.state !== "failed" || failuresShown.has(upload.key)) continue;
      failuresShown.add(upload.key);
      const key = { payload_too_large: "fileTooLarge", unsupported_type: "fileType" }[upload.error];
      view?.flash(t(key ?? "uploadFailed", { name: upload.name }));
    }
    render();
  }

  function teardown() {
    generation++;
    uploads?.destroy();
    uploadList = [];
    connection?.stop();
    view?.destroy();
    for (const timer of [typingTimer, typingIdleTimer, resendTimer, draftTimer, navigationTimer, statusTimer]) {
      timers.clearTimeout(timer);
    }
    connection = view = outbox = uploads = null;
    resetConversation();
  }

  return {
    start,
    // The browser's `offline` and `online` events (main.js).
    networkLost: () => connection?.networkLost(),
    networkBack() {
      if (awaitingNetwork && phase === "idle") {
        awaitingNetwork = false;
        start();
        return;
      }
      connection?.networkBack();
    },
    open() {
      wantOpen = true;
      view?.open({ focus: true });
    },
    close() {
      wantOpen = false;
      view?.close();
    },
    on(event, listener) {
      if (!listeners[event] || typeof listener !== "function") {
        console.warn(`Parley: cannot listen to "${event}"; events are ${EVENTS.join(", ")}.`);
        return;
      }
      listeners[event].push(listener);
    },
    identify(raw) {
      const next = cleanUser(raw);
      if (!next) {
        console.error("Parley: Parley('identify', {id, name, email, hash}) needs at least an id.");
        return;
      }
      const same = user && user.id === next.id;
      user = next;
      if (same || phase === "idle" || phase === "shutdown") return;
      // A new identity is a new session (and usually another conversation): start over.
      wantOpen = wantOpen || !!view?.isOpen;
      teardown();
      phase = "idle";
      reportedFatal = false;
      start();
    },
    shutdown() {
      // The page's "log out": forget this visitor entirely on this browser.
      teardown();
      phase = "shutdown";
      store.forget(["consent"]);
    },
    get state() {
      return { phase, status, room, locale, ...viewState() };
    },
  };
}
