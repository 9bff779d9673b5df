// The site page's live preview: the widget's own view (ParleyPreview, the widget's preview.js)
// drawn in #widget-preview with the settings form's values, again at every change of the form,
// before it is saved. It opens no socket and makes no request (see docs/PROTOCOL.md).
"use strict";

(() => {
  const box = document.getElementById("widget-preview");
  const form = document.getElementById("site-form");
  const note = document.getElementById("preview-locale-note");
  const preview = window.ParleyPreview;
  if (!box || !form || !preview) return;

  const value = (name) => form.elements.namedItem(name)?.value ?? "";
  const settings = () => ({
    name: value("name"),
    color: value("color"),
    greeting: value("greeting"),
    position: value("position"),
    locale: value("locale"),
    typing_preview: form.elements.namedItem("typing_preview")?.checked === true,
    consent_required: form.elements.namedItem("consent_required")?.checked === true,
    consent_text: value("consent_text"),
    agentName: box.dataset.agentName || "",
  });

  // A language the widget does not speak: say what visitors get instead.
  let spoken = preview.LOCALES.join(", ");
  try {
    const languages = new Intl.DisplayNames(["en"], { type: "language" });
    spoken = new Intl.ListFormat("en", { type: "disjunction" }).format(
      preview.LOCALES.map((code) => languages.of(code)),
    );
  } catch {
    // A browser without these names keeps the codes.
  }
  function explainLocale(locale) {
    const wanted = locale.trim();
    const unsupported = wanted !== "" && !preview.previewLocale(wanted).supported;
    const text = unsupported
      ? `The widget does not speak “${wanted}”: visitors see it in their browser's language ` +
        `if that is ${spoken}, otherwise in English. The preview shows English.`
      : "";
    if (note.textContent !== text) note.textContent = text;
  }

  let view = null;
  let drawn = "";
  function draw() {
    const next = settings();
    const key = JSON.stringify(next);
    if (key === drawn) return;
    drawn = key;
    if (view) view.update(next);
    else view = preview.mountPreview(box, next);
    explainLocale(next.locale);
  }
  draw();
  form.addEventListener("input", draw);
  form.addEventListener("change", draw);
  // The browser may restore the form's values after a reload (back/forward cache).
  window.addEventListener("pageshow", draw);
})();
