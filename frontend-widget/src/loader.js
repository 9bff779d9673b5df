// /widget.js: the short-lived loader in the embed tag. It runs as that tag, so
// document.currentScript is the tag itself: read it now (it is null after this run), then add the
// versioned bundle with the same data-* attributes. Parley fills in the bundle's path when serving.
(function () {
  var tag = document.currentScript;
  var w = window;
  w.Parley =
    w.Parley ||
    function () {
      (w.Parley.q = w.Parley.q || []).push(arguments);
    };
  if (!tag || !tag.src) {
    w.console.error("Parley: widget.js must be loaded with a <script src> tag; no chat widget is shown.");
    return;
  }
  var bundle = document.createElement("script");
  bundle.src = new URL("__PARLEY_BUNDLE_PATH__", tag.src).href;
  bundle.async = true;
  if (tag.nonce) bundle.nonce = tag.nonce;
  for (var i = 0; i < tag.attributes.length; i++) {
    var attribute = tag.attributes[i];
    if (attribute.name.indexOf("data-") === 0) bundle.setAttribute(attribute.name, attribute.value);
  }
  bundle.setAttribute("data-parley-bundle", "");
  (document.head || document.documentElement).appendChild(bundle);
})();
