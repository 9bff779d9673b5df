// Keyboard shortcuts of the inbox and of a conversation, listed in a dialog that `?` opens (and
// the "Keyboard shortcuts" link at the foot of the page).
//
// Each shortcut works through the page's own controls: it focuses, clicks or submits what a
// mouse would, so the forms and the live socket (inbox.js, inbox_list.js) do the work. None fires
// while the member types in a field or holds Ctrl, Alt or Meta (the browser's and the system's
// own shortcuts), nor under the open dialog; in the reply box Esc alone is heard, to leave it.
"use strict";

(() => {
  const dialog = document.getElementById("shortcuts");
  if (!dialog || typeof dialog.showModal !== "function") return;

  const inboxUrl = dialog.dataset.inboxUrl;
  const list = document.getElementById("conversation-list");
  const thread = document.getElementById("conversation");
  const search = document.getElementById("inbox-q");
  // The inbox's address with this fragment focuses its search box (no element has this id, so the
  // browser's own scrolling to a fragment leaves the focus alone).
  const SEARCH_ANCHOR = "#search";
  const SEQUENCE_MS = 1500; // `g`, then `i` within this
  const NOT_TYPED = new Set(["checkbox", "radio", "button", "submit", "reset", "image", "range", "color", "file"]);

  // ---- the dialog --------------------------------------------------------------------------------

  let opener = null;

  function openHelp() {
    if (dialog.open) return;
    opener = document.activeElement;
    dialog.showModal();
  }

  // The focus goes back to where it was when the list opened (the link, or the row the member
  // was on), however it closes: Esc, the close button or a click on the backdrop.
  dialog.addEventListener("close", () => {
    if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
    opener = null;
  });
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // the backdrop (the dialog's box has no padding)
  });

  const foot = document.getElementById("shortcuts-foot");
  const openLink = document.getElementById("shortcuts-open");
  if (foot && openLink) {
    foot.hidden = false;
    openLink.addEventListener("click", openHelp);
  }

  // ---- the conversation list ---------------------------------------------------------------------

  // The row j and k are on: the row holding the focus, else the one last moved to (by room, as
  // inbox_list.js replaces the list's rows when it refreshes them).
  let currentRoom = null;

  function rows() {
    return Array.from(document.querySelectorAll("#conversation-list .conversation-row"));
  }

  function currentRow() {
    const focused = document.activeElement && document.activeElement.closest(".conversation-row");
    if (focused) return focused;
    return rows().find((row) => row.dataset.room === currentRoom) || null;
  }

  function moveTo(row) {
    for (const other of document.querySelectorAll(".conversation-row.keyboard-current")) {
      other.classList.remove("keyboard-current");
    }
    currentRoom = row.dataset.room;
    row.classList.add("keyboard-current");
    const link = row.querySelector("a");
    link.focus();
    link.scrollIntoView({ block: "nearest" });
  }

  function step(by) {
    const all = rows();
    if (!all.length) return;
    const at = all.indexOf(currentRow());
    const next = at === -1 ? (by > 0 ? 0 : all.length - 1) : Math.min(Math.max(at + by, 0), all.length - 1);
    moveTo(all[next]);
  }

  function openCurrent() {
    const row = currentRow();
    if (row) row.querySelector("a").click();
    return Boolean(row);
  }

  function toggleCurrent() {
    const row = currentRow();
    const box = row && row.querySelector(".row-select");
    if (box) box.click(); // a change event, which the bulk bar follows (inbox_list.js)
  }

  document.addEventListener("focusin", (event) => {
    const row = event.target.closest && event.target.closest(".conversation-row");
    if (row) currentRoom = row.dataset.room;
    for (const other of document.querySelectorAll(".conversation-row.keyboard-current")) {
      if (other !== row) other.classList.remove("keyboard-current");
    }
  });

  // ---- one conversation ------------------------------------------------------------------------

  function submitShown(...ids) {
    const form = ids.map((id) => document.getElementById(id)).find((found) => found && !found.hidden);
    if (form) form.requestSubmit(); // its submit handlers run: inbox.js closes over the socket
  }

  function unassign() {
    const form = document.getElementById("assign-form");
    const select = form && form.querySelector("select");
    if (!select || !select.value) return; // nobody's already
    select.value = "";
    form.requestSubmit();
  }

  function focusReply() {
    const reply = document.querySelector("#reply-form textarea");
    if (reply) reply.focus();
  }

  function leaveReply() {
    const messages = document.getElementById("messages");
    if (messages) messages.focus();
    else document.activeElement.blur();
  }

  // ---- keys --------------------------------------------------------------------------------------

  function focusSearch() {
    if (search) {
      search.focus();
      search.select();
    } else {
      location.assign(inboxUrl + SEARCH_ANCHOR);
    }
  }

  const anywhere = {
    "?": openHelp,
    "/": focusSearch,
  };
  const onList = {
    j: () => step(1),
    k: () => step(-1),
    o: openCurrent,
    Enter: openCurrent,
    x: toggleCurrent,
  };
  const inThread = {
    r: focusReply,
    n: () => document.dispatchEvent(new CustomEvent("parley:toggle-note")), // inbox.js switches
    e: () => submitShown("close-form", "reopen-form"),
    a: () => submitShown("assign-me-form"),
    u: unassign,
  };
  const keys = { ...anywhere, ...(list ? onList : {}), ...(thread ? inThread : {}) };

  function typing(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable || target.closest("textarea, select")) return true;
    return target instanceof HTMLInputElement && !NOT_TYPED.has(target.type);
  }

  let awaitingSecond = 0; // when `g` was pressed, while its second key is awaited

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.altKey || event.metaKey) return;
    if (dialog.open) return; // the dialog's own keys: Esc closes it
    if (event.key === "Escape") {
      if (thread && event.target.closest && event.target.closest("#reply-form")) {
        event.preventDefault();
        leaveReply();
      }
      return;
    }
    if (typing(event.target)) return;
    // Enter on a link or a button is theirs; the list's Enter opens the row the member moved to
    // when the focus has gone elsewhere (the page itself).
    if (event.key === "Enter" && event.target !== document.body) return;
    if (awaitingSecond && Date.now() - awaitingSecond < SEQUENCE_MS) {
      awaitingSecond = 0;
      if (event.key === "i") {
        event.preventDefault();
        location.assign(inboxUrl);
      }
      return;
    }
    awaitingSecond = 0;
    if (event.key === "g") {
      awaitingSecond = Date.now();
      return;
    }
    const act = keys[event.key];
    if (!act) return;
    event.preventDefault();
    act();
  });

  // `/` on a conversation brings the member to the inbox with its search box focused.
  if (search && location.hash === SEARCH_ANCHOR) {
    search.focus();
    history.replaceState(history.state, "", location.pathname + location.search);
  }
})();
