// The emoji picker's view: a popover with a search box, a tab for each group (the recently used
// first, when there are some) and a grid of emoji. Arrow keys move in the grid (and between the
// tabs), Enter or a click puts the emoji in the message box at its caret, Esc closes the picker
// and gives the focus back to its button. Emoji and names reach the page through textContent.
//
// It knows no network: `loadData()` gives the groups (build.mjs writes them), `recent` keeps the
// recently used emoji (emoji.js: in localStorage). The search and the recently used list are
// pure functions, tested in Node (test/emoji.test.js); the view in chromium.

const RECENT_MAX = 24;
const RESULTS_MAX = 120;
const RECENT_ICON = "🕘";
// Each tab shows an emoji that says its group at a glance (a group's first is not always one).
const GROUP_ICONS = {
  "smileys-emotion": "😀",
  "people-body": "👋",
  "animals-nature": "🐻",
  "food-drink": "🍔",
  "travel-places": "🚗",
  activities: "⚽",
  objects: "💡",
  symbols: "❤️",
  flags: "🏁",
};

// The emoji each word of the query begins a word of (in its name or its search words): those so
// named first ("tent": the tent, then the circus tent, then the jellyfish's tentacles), each
// rank in the groups' order.
export function findEmoji(entries, query, limit = RESULTS_MAX) {
  const terms = query.toLocaleLowerCase().split(/\s+/).filter(Boolean);
  const ranked = [[], [], []];
  for (const entry of entries) {
    const name = entry[1].toLocaleLowerCase();
    const named = name.split(/[\s:,]+/);
    const tagged = entry[2].toLocaleLowerCase().split(/\s+/);
    const begins = (words) => terms.every((term) => words.some((word) => word.startsWith(term)));
    if (name === terms.join(" ")) ranked[0].push(entry);
    else if (begins(named)) ranked[1].push(entry);
    else if (begins([...named, ...tagged])) ranked[2].push(entry);
  }
  return ranked.flat().slice(0, limit);
}

// The recently used after choosing `emoji`: it first, once, at most RECENT_MAX.
export function withRecent(kept, emoji) {
  const list = Array.isArray(kept) ? kept.filter((other) => other !== emoji) : [];
  return [emoji, ...list].slice(0, RECENT_MAX);
}

export function createPicker({ document, mount, anchor, field, words, loadData, recent, onToggle = () => {} }) {
  const make = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  };
  const uid = `pe${Math.random().toString(36).slice(2, 8)}`;
  const dialog = make("div", "pe-picker");
  dialog.id = `${uid}-dialog`;
  dialog.hidden = true;
  dialog.setAttribute("role", "dialog");
  dialog.setAttribute("aria-label", words.title);
  const search = make("input", "pe-search");
  search.type = "search";
  search.placeholder = words.search;
  search.setAttribute("aria-label", words.search);
  search.setAttribute("autocomplete", "off");
  search.setAttribute("enterkeyhint", "search");
  const tabs = make("div", "pe-tabs");
  tabs.setAttribute("role", "tablist");
  tabs.setAttribute("aria-label", words.groups);
  // The shown group's name (or "Search results"), which also names the grid.
  const heading = make("p", "pe-heading");
  heading.id = `${uid}-heading`;
  const grid = make("div", "pe-grid");
  grid.id = `${uid}-grid`;
  grid.setAttribute("role", "tabpanel");
  const status = make("p", "pe-status");
  status.setAttribute("role", "status");
  grid.setAttribute("aria-labelledby", heading.id);
  dialog.append(search, tabs, heading, status, grid);
  mount.append(dialog);
  anchor.setAttribute("aria-haspopup", "dialog");
  anchor.setAttribute("aria-expanded", "false");
  anchor.setAttribute("aria-controls", dialog.id);

  let groups = null; // [{key, name, emoji: [[emoji, name, words]]}]
  let all = []; // every emoji in the groups' order
  let byEmoji = new Map();
  let loading = null;
  let current = null; // the shown group's key or "recent" (shown again when a search is cleared)
  let tabButtons = [];

  const recentList = () => {
    const kept = recent.get();
    return (Array.isArray(kept) ? kept : []).map((emoji) => byEmoji.get(emoji)).filter(Boolean);
  };
  const capitalized = (name) => name.charAt(0).toLocaleUpperCase() + name.slice(1);

  function buildTabs() {
    const entries = [
      ...(recentList().length ? [{ key: "recent", name: words.recent, icon: RECENT_ICON }] : []),
      ...groups.map((group) => ({ key: group.key, name: capitalized(group.name), icon: GROUP_ICONS[group.key] ?? group.emoji[0][0] })),
    ];
    tabButtons = entries.map((entry) => {
      const tab = make("button", "pe-tab", entry.icon);
      tab.type = "button";
      tab.id = `${uid}-tab-${entry.key}`;
      tab.dataset.key = entry.key;
      tab.title = entry.name;
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-label", entry.name);
      tab.setAttribute("aria-controls", grid.id);
      tab.addEventListener("click", () => show(entry.key));
      return tab;
    });
    tabs.replaceChildren(...tabButtons);
  }

  function fill(entries, empty) {
    const buttons = entries.map(([emoji, name], index) => {
      const button = make("button", "pe-emoji", emoji);
      button.type = "button";
      button.tabIndex = index === 0 ? 0 : -1;
      button.title = name;
      button.setAttribute("aria-label", name);
      button.dataset.emoji = emoji;
      return button;
    });
    grid.replaceChildren(...buttons);
    grid.scrollTop = 0;
    status.textContent = entries.length ? "" : empty;
    status.hidden = entries.length > 0;
  }

  function show(key) {
    current = key;
    for (const tab of tabButtons) {
      const selected = tab.dataset.key === key;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    heading.textContent = tabButtons.find((tab) => tab.dataset.key === key)?.title ?? "";
    fill(key === "recent" ? recentList() : groups.find((group) => group.key === key).emoji, "");
  }

  function find(query) {
    if (!query.trim()) {
      show(current ?? firstKey());
      return;
    }
    for (const tab of tabButtons) tab.setAttribute("aria-selected", "false");
    heading.textContent = words.results;
    fill(findEmoji(all, query), words.none);
  }

  const firstKey = () => (recentList().length ? "recent" : groups[0].key);

  const remember = (emoji) => recent.set(withRecent(recent.get(), emoji));

  function insert(emoji) {
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? start;
    field.focus();
    field.setRangeText(emoji, start, end, "end");
    field.dispatchEvent(new (document.defaultView?.Event ?? Event)("input", { bubbles: true }));
    remember(emoji);
    close({ focusAnchor: false });
  }

  async function open() {
    if (!dialog.hidden) return;
    dialog.hidden = false;
    anchor.setAttribute("aria-expanded", "true");
    onToggle(true);
    if (!groups) {
      status.hidden = false;
      status.textContent = words.loading;
      loading ??= loadData();
      try {
        const data = await loading;
        groups = data.groups.filter((group) => Array.isArray(group.emoji) && group.emoji.length);
        all = groups.flatMap((group) => group.emoji);
        byEmoji = new Map(all.map((entry) => [entry[0], entry]));
      } catch {
        loading = null;
        status.textContent = words.failed;
        return;
      }
      if (dialog.hidden) return;
    }
    search.value = "";
    buildTabs();
    show(firstKey());
    // On a touch screen the search box's focus would raise the keyboard over the grid: the
    // first emoji has it there, the search one tap away.
    const touch = document.defaultView?.matchMedia?.("(pointer: coarse)").matches;
    (touch ? grid.querySelector(".pe-emoji") ?? search : search).focus();
  }

  function close({ focusAnchor = true } = {}) {
    if (dialog.hidden) return;
    dialog.hidden = true;
    anchor.setAttribute("aria-expanded", "false");
    onToggle(false);
    if (focusAnchor) anchor.focus();
  }

  // Arrow keys in the grid: one step left or right, a row up or down (as many as the grid shows
  // in a row); Home and End to the ends.
  function move(from, key) {
    const buttons = [...grid.children];
    const index = buttons.indexOf(from);
    const columns = Math.max(1, buttons.filter((button) => button.offsetTop === buttons[0].offsetTop).length);
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns, ArrowDown: columns }[key];
    let next = index;
    if (key === "Home") next = 0;
    else if (key === "End") next = buttons.length - 1;
    else next = index + step;
    if (key === "ArrowUp" && next < 0) {
      search.focus();
      return;
    }
    next = Math.min(Math.max(next, 0), buttons.length - 1);
    from.tabIndex = -1;
    buttons[next].tabIndex = 0;
    buttons[next].focus();
  }

  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  search.addEventListener("input", () => find(search.value));
  search.addEventListener("keydown", (event) => {
    const first = grid.querySelector(".pe-emoji");
    if (event.key === "ArrowDown" && first) {
      event.preventDefault();
      first.focus();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (first) insert(first.dataset.emoji);
    }
  });
  grid.addEventListener("click", (event) => {
    const button = event.target.closest?.(".pe-emoji");
    if (button) insert(button.dataset.emoji);
  });
  grid.addEventListener("keydown", (event) => {
    const button = event.target.closest?.(".pe-emoji");
    if (!button || !["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(event.key)) return;
    event.preventDefault();
    move(button, event.key);
  });
  tabs.addEventListener("keydown", (event) => {
    const index = tabButtons.indexOf(event.target);
    const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
    if (index < 0 || !step) return;
    event.preventDefault();
    const next = tabButtons[(index + step + tabButtons.length) % tabButtons.length];
    show(next.dataset.key);
    next.focus();
  });
  // A press outside the picker and its button closes it, the focus staying where it went.
  const outside = (event) => {
    const path = event.composedPath?.() ?? [];
    if (!dialog.hidden && !path.includes(dialog) && !path.includes(anchor)) close({ focusAnchor: false });
  };
  document.addEventListener("pointerdown", outside, true);

  return {
    open,
    close,
    toggle: () => (dialog.hidden ? open() : close()),
    isOpen: () => !dialog.hidden,
    destroy() {
      document.removeEventListener("pointerdown", outside, true);
      dialog.remove();
    },
  };
}
