// Small behaviours of every dashboard page: copy buttons and confirmations before
// destructive form posts. Loaded as a static file: the CSP allows no inline script.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  source.select();
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(source.value).then(done, () => document.execCommand("copy") && done());
  } else if (document.execCommand("copy")) {
    done();
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// The page that follows a save shows its confirmation (Django's messages) at the top. A live
// region is read out when its content changes, not when the page loads with it: copy the
// messages into the empty announcer once the page is up, so screen readers say them too.
window.addEventListener("load", () => {
  const flash = document.getElementById("flash");
  const announcer = document.getElementById("announcer");
  if (!flash || !announcer) return;
  setTimeout(() => {
    announcer.textContent = [...flash.querySelectorAll("li")].map((item) => item.textContent).join(" ");
  }, 250);
});

// The navigation's Settings menu is a <details>: its button opens and closes it, with the
// keyboard too, and without this script. Here: Esc closes it and gives the focus back to its
// button; so does a click outside it or the focus leaving it (tabbing on), so that an open
// panel never lingers over the page. Up and Down move between its entries.
for (const menu of document.querySelectorAll("details.nav-menu")) {
  const button = menu.querySelector("summary");
  const entries = () => Array.from(menu.querySelectorAll("a"));
  menu.addEventListener("keydown", (event) => {
    if (!menu.open) return;
    if (event.key === "Escape") {
      event.preventDefault();
      menu.open = false;
      button.focus();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const links = entries();
      const at = links.indexOf(document.activeElement);
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = at === -1 ? (step === 1 ? 0 : links.length - 1) : (at + step + links.length) % links.length;
      links[next].focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
  menu.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !menu.contains(event.relatedTarget)) menu.open = false;
  });
}
