// What the dashboard tells a member without their asking: the number of conversations waiting to
// be read in the tab's title, a short sound and a desktop notification for a new conversation or
// a visitor's message (each as the member chose on their profile, `#notifications`' data).
//
// It listens to the `parley:frame` events inbox.js dispatches for every frame of the agent
// socket; on a page without the socket only the title's count is shown.
"use strict";

(() => {
  const config = document.getElementById("notifications");
  if (!config) return;
  const soundOn = config.dataset.sound === "on";
  const desktopOn = config.dataset.desktop === "on";
  const thread = document.getElementById("conversation");
  const viewedRoom = thread ? thread.dataset.room : null;
  const offer = document.getElementById("desktop-offer");

  // ---- the tab title: "(3) Inbox · Parley" ----------------------------------------------------

  const listed = document.getElementById("unread-rooms");
  const unread = new Set(listed ? JSON.parse(listed.textContent) : []);
  const baseTitle = document.title.replace(/^\(\d+\+?\) /, "");

  function showCount() {
    const count = unread.size > 99 ? "99+" : String(unread.size);
    document.title = unread.size ? `(${count}) ${baseTitle}` : baseTitle;
  }

  function beingRead(room) {
    // inbox.js marks the conversation in view as read while the tab is visible.
    return room === viewedRoom && document.visibilityState === "visible";
  }

  // ---- sound ---------------------------------------------------------------------------------

  let chime = null;

  function playSound() {
    if (!soundOn) return;
    chime = chime || new Audio(config.dataset.soundUrl);
    chime.currentTime = 0;
    // Browsers refuse sound before the member has interacted with the page (autoplay rules):
    // that refusal is expected, and the next message tries again.
    const played = chime.play();
    if (played && typeof played.catch === "function") played.catch(() => {});
  }

  // ---- desktop notifications -----------------------------------------------------------------

  const canNotify = "Notification" in window;

  function showOffer() {
    if (offer) offer.hidden = !(desktopOn && canNotify && Notification.permission === "default");
  }

  if (offer) {
    document.getElementById("enable-desktop-notifications").addEventListener("click", () => {
      // Asked only here, on the member's click: browsers ignore (or hold against the site) a
      // request that comes unasked.
      Promise.resolve(Notification.requestPermission()).then(showOffer, showOffer);
    });
  }

  function openUrl(room, siteId) {
    const url = config.dataset.openUrl.replace("ROOM", encodeURIComponent(room));
    return siteId ? `${url}?site_id=${encodeURIComponent(siteId)}` : url;
  }

  function notifyDesktop(title, body, room, siteId) {
    if (!desktopOn || !canNotify || Notification.permission !== "granted") return;
    if (document.visibilityState === "visible") return; // the page itself shows it
    const notification = new Notification(title, { body, tag: `parley-${room}` });
    notification.addEventListener("click", () => {
      window.focus();
      location.assign(openUrl(room, siteId));
      notification.close();
    });
  }

  // ---- frames --------------------------------------------------------------------------------

  function onMessage(frame) {
    const room = frame.conversation;
    if (!frame.author || !room) return;
    if (frame.author.kind !== "visitor") return;
    if (!beingRead(room)) unread.add(room);
    showCount();
    playSound();
    notifyDesktop(frame.author.name || "Visitor", frame.text || "", room, frame.site_id);
  }

  function onRead(frame) {
    // Agents share one read mark per conversation: any agent's reading clears it for all.
    if (frame.author && frame.author.kind === "agent" && frame.conversation) {
      unread.delete(frame.conversation);
      showCount();
    }
  }

  function onConversation(frame) {
    const conversation = frame.conversation || {};
    if (conversation.status === "closed") {
      unread.delete(conversation.id);
      showCount();
    }
    // A conversation created with its first message was announced by that message already.
    if (frame.event === "created" && !conversation.last_message_at) {
      playSound();
      const who = conversation.visitor ? conversation.visitor.name : "A visitor";
      notifyDesktop("New conversation", `${who} opened the chat.`, conversation.id, conversation.site_id);
    }
  }

  const handlers = { message: onMessage, read: onRead, conversation: onConversation };

  document.addEventListener("parley:frame", (event) => {
    const frame = event.detail;
    const handle = frame && handlers[frame.type];
    if (handle) handle(frame);
  });

  document.addEventListener("visibilitychange", () => {
    if (viewedRoom && beingRead(viewedRoom) && unread.delete(viewedRoom)) showCount();
  });

  showCount();
  showOffer();
})();
