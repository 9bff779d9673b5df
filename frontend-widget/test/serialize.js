// One serialisation of rendered message text, the form of test/markdown_cases.json's
// expectations: tag names, a link's href, escaped text. The Node tests use it on the fake
// document, the chromium tests (tests/e2e/test_markdown_browser.py) read this file and use it on
// what the widget and the dashboard rendered.
export function serialize(node) {
  const escape = (text) =>
    text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  let out = "";
  for (const child of node.childNodes) {
    if (child.nodeType === 3) {
      out += escape(child.nodeValue);
    } else if (child.nodeType === 1) {
      const tag = child.nodeName.toLowerCase();
      if (tag === "br") {
        out += "<br>";
      } else {
        const href = tag === "a" ? ` href="${escape(child.getAttribute("href"))}"` : "";
        out += `<${tag}${href}>${serialize(child)}</${tag}>`;
      }
    }
  }
  return out;
}
