// The live inbox: connects the inbox and conversation pages to ws(s)://<this host>/ws/agent/.
//
// The pages work without it (every action is a form post); with the socket, new messages, typing,
// read receipts and conversation changes appear as they happen, and replies go over the socket.
// Message data is only ever put in the page with textContent, never parsed as HTML; a message's
// text is formatted by the widget's own module (window.ParleyMarkdown, its dist/markdown.js), which
// builds its nodes the same way, so a message looks alike in the widget and here.
//
// Other modules of the page hear every frame as a `parley:frame` event on `document` (its
// `detail` is the frame), and send frames with `parley:send` events (its `detail` is the frame).
"use strict";

(() => {
  const inbox = document.getElementById("inbox");
  const thread = document.getElementById("conversation");
  if (!inbox && !thread) return;

  const room = thread ? thread.dataset.room : null;
  // Public room names are unique per site only: frames name the site too.
  const siteId = thread ? Number(thread.dataset.siteId) : null;
  const liveStatus = document.getElementById("live-status");
  const messageList = document.getElementById("messages");
  const typingNote = document.getElementById("typing");
  const seenNote = document.getElementById("seen");
  const replyForm = document.getElementById("reply-form");
  const closeForm = document.getElementById("close-form");
  const reopenForm = document.getElementById("reopen-form");
  const socketError = document.getElementById("socket-error");

  const RECONNECT_MIN_MS = 500;
  const RECONNECT_MAX_MS = 30000;
  const TYPING_IDLE_MS = 3000;
  const TYPING_SHOWN_MS = 6000;
  const CLOSE_FALLBACK_MS = 3000;
  // The server closes a socket that sends nothing for 75 s (4408): ping, as the widget does.
  const PING_INTERVAL_MS = 25000;

  let socket = null;
  let attempt = 0;
  let stopped = false;
  let pingTimer = null;
  // Once the socket has been live, a reply written while it is down waits for it (shown as not
  // sent yet) instead of posting the form: the page would be lost with its files if the network
  // is what is down.
  let wasLive = false;
  const pending = new Map(); // client_id -> the frame sent, until the server echoes it

  // ---- connection ------------------------------------------------------------------------------

  function showState(state, label) {
    if (!liveStatus) return;
    liveStatus.dataset.state = state;
    liveStatus.textContent = label;
  }

  function connect() {
    showState("connecting", "Connecting…");
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/agent/");
    socket.addEventListener("open", () => {
      attempt = 0;
      wasLive = true;
      showState("live", "Live");
      if (thread) {
        olderRequested = false;
        showOlderControl(true);
      }
      clearInterval(pingTimer);
      pingTimer = setInterval(() => send({ type: "ping" }), PING_INTERVAL_MS);
      for (const frame of pending.values()) send(frame); // same client_id: stored once
      showUnsent(false);
      readUpToLatest();
      // The composer's uploads the network cut go again (attachments.js).
      document.dispatchEvent(new CustomEvent("parley:live"));
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      const handle = frame && handlers[frame.type];
      if (handle) handle(frame);
      // Every frame is also told to the page's other modules (notifications, the list, the
      // side panel), which listen without reaching into this one.
      if (frame && typeof frame.type === "string") {
        document.dispatchEvent(new CustomEvent("parley:frame", { detail: frame }));
      }
    });
    socket.addEventListener("close", (event) => {
      socket = null;
      clearInterval(pingTimer);
      if (thread) showOlderControl(false);
      showUnsent(true);
      if (stopped) return;
      if (event.code === 1000 || event.code === 4401 || event.code === 4403) {
        // Closed on purpose, or the session ended: reconnecting would be refused again.
        showState("offline", "Offline: reload the page");
        return;
      }
      showState("offline", "Reconnecting…");
      // 4410: the member's access changed (signed out, removed, a new role or password). Try
      // again at once: the handshake admits a session that is still good, under its new role.
      const atOnce = event.code === 1001 || event.code === 1012 || event.code === 4410;
      reconnectAfter(atOnce ? 0 : backoff());
    });
  }

  function backoff() {
    // Exponential backoff with full jitter, 0.5 s doubling up to 30 s.
    const cap = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
    attempt += 1;
    return Math.random() * cap;
  }

  function reconnectAfter(delay) {
    setTimeout(() => {
      if (!stopped) connect();
    }, delay);
  }

  // The replies waiting for the server's ack say, while the socket is down, that they are not
  // sent yet; they go again, under the same client_id, when it is back.
  function showUnsent(unsent) {
    if (!messageList) return;
    for (const clientId of pending.keys()) {
      const item = messageList.querySelector(`li[data-client-id="${CSS.escape(clientId)}"]`);
      if (!item) continue;
      let note = item.querySelector(".unsent-tag");
      if (unsent && !note) {
        note = element("span", "unsent-tag", "Not sent yet: it goes when the connection is back");
        item.querySelector("time").before(note);
      } else if (!unsent && note) {
        note.remove();
      }
    }
  }

  function isOpen() {
    return socket !== null && socket.readyState === WebSocket.OPEN;
  }

  function send(frame) {
    if (!isOpen()) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  document.addEventListener("parley:send", (event) => {
    if (event.detail && typeof event.detail.type === "string") send(event.detail);
  });

  window.addEventListener("pagehide", () => {
    stopped = true;
    if (socket) socket.close(1000);
  });

  // ---- rendering -------------------------------------------------------------------------------

  function uuid4() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function setTime(node, iso) {
    // The dashboard's one rule, in the agent's zone (times.js); the server renders the same.
    if (window.parleyTimes) {
      window.parleyTimes.render(node, iso);
      return;
    }
    const date = iso ? new Date(iso) : new Date();
    node.dateTime = date.toISOString();
    node.textContent = date.toLocaleString();
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Bold, italic, code and links, as the widget shows them; without the formatting script the
  // server's plain text stays.
  function messageText(text) {
    const node = element("div", "text");
    if (window.ParleyMarkdown) node.append(window.ParleyMarkdown.render(text));
    else node.textContent = text;
    return node;
  }

  function formatHistory() {
    if (!messageList || !window.ParleyMarkdown) return;
    for (const node of messageList.querySelectorAll(".message > .text")) {
      node.replaceChildren(window.ParleyMarkdown.render(node.textContent));
    }
  }

  function authorLabel(author) {
    if (author && author.name) return author.name;
    return { visitor: "Visitor", agent: "Agent", system: "System" }[author && author.kind] || "";
  }

  // A message's files, as the server renders them (dashboard/_message_files.html): images as
  // thumbnails opening the original, other files as download cards. Links are the server's.
  function filesList(attachments) {
    const list = element("ul", "message-files");
    for (const file of attachments) {
      if (!file || typeof file.url !== "string" || !/^https?:\/\//.test(file.url)) continue;
      const entry = element("li");
      const link = element("a", file.thumbnail_url ? "file-thumb" : "file-card");
      link.href = file.url;
      if (file.thumbnail_url && /^https?:\/\//.test(file.thumbnail_url)) {
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        const image = element("img");
        image.src = file.thumbnail_url;
        image.alt = String(file.name || "");
        if (file.width) image.width = file.width;
        if (file.height) image.height = file.height;
        link.append(image);
      } else {
        link.className = "file-card";
        link.download = String(file.name || "file");
        link.append(element("span", "file-name", String(file.name || "file")), " ", element("span", "file-size muted", sizeText(file.size)));
      }
      entry.append(link);
      list.append(entry);
    }
    return list;
  }

  function sizeText(bytes) {
    const size = Number(bytes) || 0;
    if (size < 1024) return `${size} bytes`;
    if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
    return `${(size / 1024 / 1024).toFixed(1)} MB`;
  }

  function messageItem({ id, clientId, text, ts, author, private: note = false, attachments = [] }) {
    const item = element("li", `message author-${author.kind}`);
    if (id) item.dataset.id = String(id);
    if (clientId) item.dataset.clientId = clientId;
    if (author.id) item.dataset.authorId = String(author.id);
    if (author.avatar) {
      // The initials and colour the server computed for the author (people.js draws them).
      item.dataset.avatarInitials = author.avatar.initials;
      item.dataset.avatarColor = String(author.avatar.color);
    }
    item.append(element("span", "author", authorLabel(author)));
    if (text) item.append(messageText(text));
    if (Array.isArray(attachments) && attachments.length) item.append(filesList(attachments));
    if (note) {
      item.classList.add("private");
      item.append(element("span", "note-tag", "Only your team sees this"));
    }
    // A reply that came by email (docs/EMAIL.md: its client_id's prefix).
    if (clientId && clientId.startsWith("email-")) item.append(element("span", "via-tag", "By email"));
    const time = element("time");
    setTime(time, ts);
    item.append(time);
    return item;
  }

  // ---- the thread's scroll: open at the newest, older pages above, a pill for new ones -------

  const newMessagesPill = document.getElementById("new-messages");
  const loadOlder = document.getElementById("load-older");
  const olderNote = document.getElementById("older-note");
  const AT_BOTTOM_PX = 48;
  const OLDER_PAGE = 50;
  let olderRequested = false;

  function atBottom() {
    return messageList.scrollHeight - messageList.scrollTop - messageList.clientHeight <= AT_BOTTOM_PX;
  }

  function scrollToNewest() {
    messageList.scrollTop = messageList.scrollHeight;
    if (newMessagesPill) newMessagesPill.hidden = true;
  }

  function appendToThread(item, { own = false } = {}) {
    const empty = document.getElementById("no-messages");
    if (empty) empty.remove();
    // Only an agent already at the newest message follows the thread; one reading older
    // messages keeps their place and gets the pill.
    const follow = own || atBottom();
    messageList.append(item);
    if (follow) scrollToNewest();
    else if (newMessagesPill) newMessagesPill.hidden = false;
  }

  function oldestMessageId() {
    const first = messageList.querySelector("li[data-id]");
    return first ? Number(first.dataset.id) : 0;
  }

  function requestOlder() {
    if (olderRequested || !loadOlder || !document.getElementById("older")) return;
    const before = oldestMessageId();
    if (!before) return;
    if (send({ type: "history", conversation: room, site_id: siteId, before, limit: OLDER_PAGE })) {
      olderRequested = true;
      loadOlder.disabled = true;
    }
  }

  function onHistory(frame) {
    if (!thread || frame.conversation !== room) return;
    olderRequested = false;
    const older = document.getElementById("older");
    if (!older) return;
    // Keep the message the agent was reading where it is: note where the oldest shown message
    // sits on screen, insert above it, and scroll so it sits there again (once more on the next
    // frame, after other modules have decorated the new items, avatars for one).
    const anchor = messageList.querySelector("li[data-id]");
    const anchorOffset = anchor ? anchor.offsetTop - messageList.scrollTop : 0;
    const keepAnchor = () => {
      if (anchor) messageList.scrollTop = anchor.offsetTop - anchorOffset;
    };
    const fragment = document.createDocumentFragment();
    for (const message of frame.messages || []) {
      if (messageList.querySelector(`li[data-id="${Number(message.id)}"]`)) continue;
      fragment.append(messageItem({ id: message.id, clientId: message.client_id, text: message.text, ts: message.ts, author: message.author, private: message.private === true, attachments: message.attachments }));
    }
    older.after(fragment);
    if (frame.has_more) {
      loadOlder.disabled = false;
    } else {
      older.remove();
    }
    keepAnchor();
    requestAnimationFrame(keepAnchor);
  }

  function showOlderControl(live) {
    if (!loadOlder) return;
    loadOlder.hidden = !live;
    loadOlder.disabled = !live || olderRequested;
    if (olderNote) olderNote.hidden = live;
  }

  if (thread && messageList) {
    formatHistory();
    scrollToNewest();
    messageList.addEventListener("scroll", () => {
      if (atBottom() && newMessagesPill) newMessagesPill.hidden = true;
      if (messageList.scrollTop < 80) requestOlder();
    }, { passive: true });
    if (newMessagesPill) newMessagesPill.addEventListener("click", scrollToNewest);
    if (loadOlder) loadOlder.addEventListener("click", requestOlder);
  }

  function latestMessageId() {
    const items = messageList ? messageList.querySelectorAll("li[data-id]") : [];
    return items.length ? Number(items[items.length - 1].dataset.id) : 0;
  }

  function readUpToLatest() {
    const upTo = latestMessageId();
    if (room && upTo && document.visibilityState === "visible") {
      send({ type: "read", conversation: room, site_id: siteId, up_to: upTo });
    }
  }

  // ---- one conversation ------------------------------------------------------------------------

  let typingTimer = null;
  let closeFallback = null;

  function onThreadMessage(frame) {
    const byClient = frame.client_id
      ? messageList.querySelector(`li[data-client-id="${CSS.escape(frame.client_id)}"]`)
      : null;
    if (messageList.querySelector(`li[data-id="${Number(frame.id)}"]`)) return;
    if (byClient) {
      byClient.dataset.id = String(frame.id);
      byClient.classList.remove("pending");
      pending.delete(frame.client_id);
    } else {
      appendToThread(
        messageItem({ id: frame.id, clientId: frame.client_id, text: frame.text, ts: frame.ts, author: frame.author, private: frame.private === true, attachments: frame.attachments }),
      );
    }
    if (frame.author.kind === "visitor") {
      typingNote.hidden = true;
      seenNote.hidden = true;
      readUpToLatest();
    }
  }

  function onTyping(frame) {
    if (frame.conversation !== room || !frame.author || frame.author.kind !== "visitor") return;
    clearTimeout(typingTimer);
    typingNote.textContent = `${authorLabel(frame.author)} is typing…`;
    typingNote.hidden = !frame.state;
    if (frame.state) typingTimer = setTimeout(() => { typingNote.hidden = true; }, TYPING_SHOWN_MS);
  }

  function onRead(frame) {
    if (frame.conversation !== room || !frame.author || frame.author.kind !== "visitor") return;
    seenNote.textContent = `Seen by ${authorLabel(frame.author)}`;
    seenNote.hidden = false;
  }

  function showStatus(badge, status) {
    badge.className = `badge status-${status}`;
    badge.textContent = status === "closed" ? "Closed" : "Open";
  }

  // What the page's flashes ("Assigned to Ann.", "Conversation closed.") were true of. Once the
  // conversation's status or assignee changes under them, they no longer hold: they go.
  let shownState = (() => {
    const select = document.querySelector("#assign-form select");
    const badge = document.getElementById("conversation-status");
    const status = badge && badge.className.includes("status-closed") ? "closed" : "open";
    return `${status}|${select ? select.value : ""}`;
  })();

  function forgetStaleFlashes(conversation) {
    const now = `${conversation.status}|${conversation.assignee || ""}`;
    if (now === shownState) return;
    shownState = now;
    for (const flash of document.querySelectorAll(".flash")) flash.remove();
  }

  function onConversation(frame) {
    const conversation = frame.conversation || {};
    const conversationRoom = conversation.id;
    // The inbox's rows follow these frames in inbox_list.js.
    if (!thread || conversationRoom !== room) return;
    if (conversation.site_id !== undefined && siteId && conversation.site_id !== siteId) return;
    clearTimeout(closeFallback);
    showStatus(document.getElementById("conversation-status"), conversation.status);
    if (closeForm && reopenForm) {
      closeForm.hidden = conversation.status === "closed";
      reopenForm.hidden = conversation.status !== "closed";
    }
    const select = document.querySelector("#assign-form select");
    if (select) select.value = conversation.assignee ? String(conversation.assignee) : "";
    forgetStaleFlashes(conversation);
    const assignMe = document.getElementById("assign-me-form");
    if (assignMe) assignMe.hidden = String(conversation.assignee) === thread.dataset.userId;
  }

  function onAck(frame) {
    // The server stored the reply sent over the socket under `id`.
    if (!thread || frame.conversation !== room) return;
    pending.delete(frame.client_id);
    const item = messageList.querySelector(`li[data-client-id="${CSS.escape(String(frame.client_id))}"]`);
    if (item) {
      item.dataset.id = String(frame.id);
      item.classList.remove("pending");
    }
  }

  function onError(frame) {
    if (!socketError) return;
    socketError.textContent = frame.message || "The server refused the last action.";
    socketError.hidden = false;
    setTimeout(() => { socketError.hidden = true; }, 8000);
  }

  const handlers = {
    message(frame) {
      if (thread && frame.conversation === room) onThreadMessage(frame);
    },
    typing: onTyping,
    read: onRead,
    conversation: onConversation,
    ack: onAck,
    history: onHistory,
    error: onError,
  };

  if (thread) {
    const textarea = replyForm.querySelector("textarea");
    const clientIdInput = replyForm.querySelector('input[name="client_id"]');
    const noteToggle = replyForm.querySelector('input[name="private"]');
    const noteHint = document.getElementById("note-hint");
    const replyPlaceholder = textarea.placeholder;
    let typingSent = false;
    let typingIdle = null;

    function noteMode() {
      return Boolean(noteToggle && noteToggle.checked);
    }

    function showMode() {
      // A note is the team's own: it looks different, and the visitor is not told of typing.
      const note = noteMode();
      replyForm.classList.toggle("note-mode", note);
      textarea.placeholder = note ? "Write a private note…" : replyPlaceholder;
      if (noteHint) noteHint.hidden = !note;
      if (note && typingSent) {
        send({ type: "typing", conversation: room, site_id: siteId, state: false });
        typingSent = false;
      }
    }

    if (noteToggle) {
      noteToggle.addEventListener("change", showMode);
      showMode();
    }
    // Other modules (shortcuts.js) switch between a reply and a note with this event.
    document.addEventListener("parley:toggle-note", () => {
      if (!noteToggle) return;
      noteToggle.checked = !noteToggle.checked;
      showMode();
      textarea.focus();
    });

    textarea.addEventListener("input", () => {
      if (noteMode()) return;
      if (!typingSent && send({ type: "typing", conversation: room, site_id: siteId, state: true })) typingSent = true;
      clearTimeout(typingIdle);
      typingIdle = setTimeout(() => {
        if (typingSent) send({ type: "typing", conversation: room, site_id: siteId, state: false });
        typingSent = false;
      }, TYPING_IDLE_MS);
    });

    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        replyForm.requestSubmit();
      }
    });

    // A reply sent while some of its files are still uploading, or waiting to (attachments.js),
    // is held until they are up, then goes with them.
    const heldNote = document.getElementById("reply-held");
    let held = false;

    function filesUnsettled() {
      return replyForm.querySelector(".composer-file.uploading, .composer-file.waiting") !== null;
    }

    function hold(on) {
      held = on;
      if (heldNote) heldNote.hidden = !on;
    }

    document.addEventListener("parley:uploads-changed", () => {
      if (held && !filesUnsettled()) {
        hold(false);
        replyForm.requestSubmit();
      }
    });

    replyForm.addEventListener("submit", (event) => {
      const text = textarea.value.trim();
      // Uploaded files of the composer (attachments.js), sent by id with the reply.
      const files = Array.from(replyForm.querySelectorAll(".composer-file.ready")).map((item) => JSON.parse(item.dataset.attachment));
      if (filesUnsettled()) {
        event.preventDefault();
        hold(true);
        return;
      }
      if (!text && !files.length) {
        event.preventDefault();
        return;
      }
      // Never live (no socket yet, or none possible): the form posts, the server stores it.
      if (!isOpen() && !wasLive) return;
      event.preventDefault();
      const clientId = clientIdInput.value || uuid4();
      const note = noteMode();
      const frame = { type: "message", conversation: room, site_id: siteId, client_id: clientId, text };
      if (files.length) frame.attachments = files.map((file) => file.id);
      if (note) frame.private = true;
      pending.set(clientId, frame);
      // Signed as the server will sign it (the member's name), so a reload shows the same.
      const me = { kind: "agent", id: thread.dataset.userId, name: thread.dataset.userName };
      const item = messageItem({ clientId, text, author: me, private: note, attachments: files });
      item.classList.add("pending");
      appendToThread(item, { own: true });
      if (!send(frame)) showUnsent(true);
      if (typingSent) send({ type: "typing", conversation: room, site_id: siteId, state: false });
      typingSent = false;
      textarea.value = "";
      clientIdInput.value = uuid4();
      if (files.length) document.dispatchEvent(new CustomEvent("parley:attachments-sent"));
    });

    if (closeForm) {
      closeForm.addEventListener("submit", (event) => {
        if (!send({ type: "close_conversation", conversation: room, site_id: siteId })) return;
        event.preventDefault();
        // If no `conversation` frame confirms the close in time, post the form after all.
        closeFallback = setTimeout(() => closeForm.submit(), CLOSE_FALLBACK_MS);
      });
    }

    document.addEventListener("visibilitychange", readUpToLatest);
  }

  if ("WebSocket" in window) connect();
})();
