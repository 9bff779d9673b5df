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
