// Canned replies in the composer: "/" at the start of the reply box or after a space opens a
// list of the team's replies matching what follows it; ↑/↓ move, Enter or Tab insert, Esc
// closes, a click inserts. The reply box is the combobox and the list its listbox (WAI-ARIA
// combobox pattern: aria-expanded, aria-controls, aria-activedescendant). The replies come in
// the page (`canned-replies`), their variables already filled in by the server for this visitor
// and this agent: inserting is putting text in the box, the same for a reply and a note.
"use strict";

(() => {
  const form = document.getElementById("reply-form");
  const picker = document.getElementById("canned-picker");
  const data = document.getElementById("canned-replies");
  if (!form || !picker || !data) return;
  const textarea = form.querySelector("textarea");
  const replies = JSON.parse(data.textContent);
  if (!textarea || !replies.length) return;

  // The shortcut being typed: a "/" at the start or after whitespace, then shortcut characters,
  // up to the caret.
  const TRIGGER = /(^|\s)\/([\w-]*)$/;
  let matches = [];
  let active = 0;
  let start = -1; // where the "/" being completed is
  let dismissed = -1; // the "/" whose list Esc closed: it stays closed until another one

  textarea.setAttribute("role", "combobox");
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-controls", picker.id);
  textarea.setAttribute("aria-expanded", "false");

  function typed() {
    if (textarea.selectionStart !== textarea.selectionEnd) return null;
    const found = TRIGGER.exec(textarea.value.slice(0, textarea.selectionStart));
    if (!found) return null;
    return { at: textarea.selectionStart - found[2].length - 1, query: found[2].toLowerCase() };
  }

  // Shortcuts that start with what was typed come first, then those that contain it or whose
  // title does.
  function matching(query) {
    const first = [];
    const then = [];
    for (const reply of replies) {
      if (reply.shortcut.startsWith(query)) first.push(reply);
      else if (reply.shortcut.includes(query) || reply.title.toLowerCase().includes(query)) then.push(reply);
    }
    return first.concat(then);
  }

  function option(reply, index) {
    const item = document.createElement("li");
    item.id = `canned-option-${index}`;
    item.setAttribute("role", "option");
    item.className = "canned-option";
    item.dataset.index = String(index);
    const head = document.createElement("span");
    head.className = "canned-option-head";
    const shortcut = document.createElement("span");
    shortcut.className = "canned-shortcut";
    shortcut.textContent = `/${reply.shortcut}`;
    const title = document.createElement("span");
    title.className = "canned-title";
    title.textContent = reply.title;
    head.append(shortcut, " ", title);
    const preview = document.createElement("span");
    preview.className = "canned-preview";
    preview.textContent = reply.text;
    item.append(head, preview);
    return item;
  }

  function close() {
    picker.hidden = true;
    picker.replaceChildren();
    matches = [];
    start = -1;
    textarea.setAttribute("aria-expanded", "false");
    textarea.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    active = (index + matches.length) % matches.length;
    for (const item of picker.children) {
      item.setAttribute("aria-selected", item.dataset.index === String(active) ? "true" : "false");
    }
    const current = picker.children[active];
    textarea.setAttribute("aria-activedescendant", current.id);
    current.scrollIntoView({ block: "nearest" });
  }

  function update() {
    const token = typed();
    if (!token || token.at === dismissed) {
      if (!token) dismissed = -1;
      close();
      return;
    }
    const found = matching(token.query);
    if (!found.length) {
      close();
      return;
    }
    const same = start === token.at && found.length === matches.length && found.every((r, i) => r === matches[i]);
    start = token.at;
    if (same) return;
    matches = found;
    picker.replaceChildren(...found.map(option));
    picker.hidden = false;
    textarea.setAttribute("aria-expanded", "true");
    highlight(0);
  }

  function choose(index) {
    const reply = matches[index];
    if (!reply) return;
    const before = textarea.value.slice(0, start);
    const after = textarea.value.slice(textarea.selectionEnd);
    textarea.value = before + reply.text + after;
    const caret = before.length + reply.text.length;
    textarea.setSelectionRange(caret, caret);
    close();
    textarea.focus();
    // As if typed: the page tells the visitor the agent is typing (not in a note).
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  textarea.addEventListener("input", update);
  textarea.addEventListener("click", update);
  textarea.addEventListener("keyup", (event) => {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight" || event.key === "Home" || event.key === "End") update();
  });
  textarea.addEventListener("blur", close);

  // On the form, in the capture phase: it runs before the reply box's own keys (Enter sends,
  // in inbox.js) and before any page-wide shortcut, so that an open list takes its keys.
  form.addEventListener(
    "keydown",
    (event) => {
      if (event.target !== textarea || picker.hidden) return;
      const keys = {
        ArrowDown: () => highlight(active + 1),
        ArrowUp: () => highlight(active - 1),
        Enter: () => choose(active),
        Tab: () => choose(active),
        Escape: () => {
          dismissed = start;
          close();
        },
      };
      const act = keys[event.key];
      if (!act || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
      event.preventDefault();
      event.stopPropagation();
      act();
    },
    true,
  );

  // mousedown, not click: the reply box keeps the focus (its blur would close the list first).
  picker.addEventListener("mousedown", (event) => {
    const item = event.target.closest("[role=option]");
    if (!item) return;
    event.preventDefault();
    choose(Number(item.dataset.index));
  });
})();
