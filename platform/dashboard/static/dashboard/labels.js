// Label chips and dots take their colour from `data-color` (a label's `#rrggbb`), set as the
// `--chip` custom property: the pages' CSP allows no style attribute in the markup.
"use strict";

// Pages that add chips later call `window.parleyLabels.colour(root)`.
(() => {
  function colour(root = document) {
    for (const node of root.querySelectorAll("[data-color]")) {
      if (/^#[0-9a-fA-F]{6}$/.test(node.dataset.color)) node.style.setProperty("--chip", node.dataset.color);
    }
  }
  colour();
  window.parleyLabels = { colour };
})();
