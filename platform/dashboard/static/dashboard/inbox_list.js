// The inbox's list, kept right live: listens to the agent socket's frames (`parley:frame` events
// that inbox.js dispatches on `document`) and updates, removes or adds rows and the views'
// counts; shows a selection bar for the bulk actions when rows are selected.
//
// Without JavaScript the list works as plain pages and one form post. Row data is only ever put
// in the page with textContent (a new row, or the counts, come from the server's own rendering).
"use strict";

(() => {
  const inbox = document.getElementById("inbox");
  if (!inbox || inbox.dataset.page !== "inbox") return;

  const view = inbox.dataset.view; // "" when showing a label's view
  const labelView = inbox.dataset.label ? Number(inbox.dataset.label) : null;
  const searching = inbox.dataset.searching === "1";
  const userId = Number(inbox.dataset.userId);
  const paged = new URLSearchParams(location.search).has("cursor");
  const bulkForm = document.getElementById("bulk-form");
  const bulkBar = document.getElementById("bulk-bar");
  const selectAll = document.getElementById("select-all");
  const selectedCount = document.getElementById("selected-count");
  const bulkAction = document.getElementById("bulk-action");
  const bulkAssignee = document.getElementById("bulk-assignee");
  const bulkLabel = document.getElementById("bulk-label");
  const COUNTS_MS = 1500; // at most one counts request this often
  const LIST_MS = 700; // a burst of frames about new rows: one page request

  // ---- selection and the bulk bar --------------------------------------------------------------

  function rowBoxes() {
    return Array.from(document.querySelectorAll("#conversation-list .row-select"));
  }

  function showSelection() {
    const chosen = rowBoxes().filter((box) => box.checked).length;
    bulkBar.dataset.active = chosen ? "true" : "false";
    selectedCount.textContent = chosen ? `${chosen} selected` : "";
  }

  function showActionFields() {
    bulkAssignee.hidden = bulkAction.value !== "assign";
    if (bulkLabel) bulkLabel.hidden = bulkAction.value !== "label";
  }

  bulkForm.classList.add("scripted");
  selectAll.addEventListener("change", () => {
    for (const box of rowBoxes()) box.checked = selectAll.checked;
    showSelection();
  });
  bulkForm.addEventListener("change", (event) => {
    if (!event.target.classList.contains("row-select")) return;
    if (!event.target.checked) selectAll.checked = false; // no longer every row of the page
    showSelection();
  });
  bulkAction.addEventListener("change", showActionFields);
  showActionFields();
  showSelection();

  // ---- rows from frames ------------------------------------------------------------------------

  function row(room) {
    return Array.from(document.querySelectorAll("#conversation-list .conversation-row")).find(
      (item) => item.dataset.room === room,
    ) || null;
  }

  function memberName(memberId) {
    const option = bulkAssignee.querySelector(`option[value="${Number(memberId)}"]`);
    return option ? option.textContent : "Assigned";
  }

  function snoozed(conversation) {
    return Boolean(conversation.snoozed_until) && new Date(conversation.snoozed_until) > new Date();
  }

  // Whether this page's view holds the conversation (the server's views, inbox.py).
  function belongs(conversation) {
    const open = conversation.status === "open" && !snoozed(conversation);
    const labels = (conversation.labels || []).map((label) => label.id);
    if (labelView !== null) return open && labels.includes(labelView);
    if (view === "mine") return open && conversation.assignee === userId;
    if (view === "unassigned") return open && conversation.assignee === null;
    if (view === "open") return open;
    if (view === "closed") return conversation.status === "closed";
    if (view === "snoozed") return conversation.status === "open" && snoozed(conversation);
    return true;
  }

  function showUnread(item, unread) {
    const badge = item.querySelector(".unread-count");
    badge.dataset.count = String(unread);
    badge.textContent = unread >= 100 ? "99+" : String(unread);
    badge.hidden = !unread;
    item.classList.toggle("unread", unread > 0);
  }

  function showChips(item, labels) {
    const chips = item.querySelector(".chips");
    chips.replaceChildren(
      ...labels.map((label) => {
        const chip = document.createElement("span");
        chip.className = "chip";
        chip.dataset.label = String(label.id);
        chip.dataset.color = label.color;
        chip.style.setProperty("--chip", label.color);
        chip.textContent = label.name;
        return chip;
      }),
    );
  }

  function onConversation(conversation) {
    const item = row(conversation.id);
    if (!belongs(conversation)) {
      if (item) item.remove();
      showEmpty();
      return;
    }
    if (!item) {
      refreshList();
      return;
    }
    item.dataset.status = conversation.status;
    const badge = item.querySelector(".badge");
    badge.className = `badge status-${conversation.status}`;
    badge.textContent = conversation.status === "closed" ? "Closed" : "Open";
    item.querySelector(".assignee").textContent =
      conversation.assignee === null ? "Unassigned" : memberName(conversation.assignee);
    showChips(item, conversation.labels || []);
    showUnread(item, conversation.unread || 0);
  }

  function onMessage(frame) {
    const item = row(frame.conversation);
    if (!item) return; // its `conversation` frame follows and decides
    if (!searching && !frame.private) {
      const author = frame.author || {};
      const prefix = author.kind === "agent" ? `${author.name || "Agent"}: ` : "";
      item.querySelector(".last-message").textContent = prefix + frame.text;
    }
    window.parleyTimes.render(item.querySelector("time"), frame.ts); // the dashboard's one rule
    // At once, before the `conversation` frame that follows brings the server's count.
    if ((frame.author || {}).kind === "visitor") {
      item.dataset.lastVisitorMessage = String(frame.id);
      showUnread(item, Number(item.querySelector(".unread-count").dataset.count || 0) + 1);
    }
    if (!paged) item.parentElement.prepend(item);
  }

  // An agent read the conversation (on any tab, a colleague's too): read up to its latest
  // visitor message, nothing of it is unread. The server sends no `conversation` frame for a read.
  function onRead(frame) {
    if ((frame.author || {}).kind !== "agent") return;
    const item = row(frame.conversation);
    if (item && Number(frame.up_to) >= Number(item.dataset.lastVisitorMessage || 0)) {
      showUnread(item, 0);
    }
  }

  function showEmpty() {
    const empty = document.getElementById("inbox-empty");
    if (empty) empty.hidden = rowBoxes().length > 0;
  }

  // ---- the server's answers: the views' counts, and the list for a row the page lacks ---------

  const views = document.getElementById("inbox-views");
  let countsTimer = null;
  let listTimer = null;

  // The counts depend on every conversation, so the server gives them: one small JSON request
  // after a burst of frames, never more than one per COUNTS_MS.
  function refreshCounts() {
    if (countsTimer) return;
    countsTimer = setTimeout(async () => {
      countsTimer = null;
      const response = await fetch(views.dataset.countsUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      const counts = await response.json();
      for (const link of views.querySelectorAll("a[data-view], a[data-label]")) {
        const key = link.dataset.view || `label:${link.dataset.label}`;
        const count = link.querySelector(".view-count");
        if (!count || !(key in counts)) continue;
        count.dataset.count = String(counts[key]);
        count.textContent = String(counts[key]);
        count.hidden = !counts[key];
      }
    }, COUNTS_MS);
  }

  // A conversation the page does not show yet (new, or new to this view): the page as the
  // server renders it now. Not on a later page or a search, whose rows stay as they were.
  function refreshList() {
    if (paged || searching) return;
    clearTimeout(listTimer);
    listTimer = setTimeout(async () => {
      const response = await fetch(location.href, { credentials: "same-origin" });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const freshViews = page.getElementById("inbox-views");
      if (freshViews) views.replaceChildren(...document.importNode(freshViews, true).childNodes);
      const fresh = page.getElementById("conversation-list");
      const current = document.getElementById("conversation-list");
      if (fresh && current) {
        const chosen = new Set(rowBoxes().filter((box) => box.checked).map((box) => box.value));
        current.replaceWith(document.importNode(fresh, true));
        for (const box of rowBoxes()) box.checked = chosen.has(box.value);
        const ids = page.querySelectorAll('#bulk-form input[name="page_ids"]');
        bulkForm.querySelectorAll('input[name="page_ids"]').forEach((input) => input.remove());
        for (const input of ids) bulkForm.prepend(document.importNode(input, true));
      }
      window.parleyLabels.colour();
      showEmpty();
      showSelection();
    }, LIST_MS);
  }

  document.addEventListener("parley:frame", (event) => {
    const frame = event.detail;
    if (frame.type === "conversation" && frame.conversation) {
      onConversation(frame.conversation);
      refreshCounts();
    } else if (frame.type === "message") {
      onMessage(frame);
    } else if (frame.type === "read") {
      onRead(frame);
      refreshCounts();
    }
  });
})();
