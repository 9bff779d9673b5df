// The reply box's emoji picker: the widget's own (its dist/emoji.js module, served from this host
// under its content hash), imported the first time the button is pressed; its data is fetched
// then too. The recently used emoji are this browser's, for every conversation.
(function () {
  "use strict";

  const button = document.getElementById("emoji-button");
  const form = document.getElementById("reply-form");
  if (!button || !form) return;
  const textarea = form.querySelector("textarea");
  let picker = null;

  button.hidden = false;
  button.addEventListener("click", async () => {
    picker = picker || import(button.dataset.script).then((api) =>
      api.attach({ root: document, mount: form, anchor: button, field: textarea, locale: "en", recent: "parley:emoji" }),
    );
    try {
      (await picker).toggle();
    } catch {
      picker = null; // tried again at the next press
    }
  });
})();
