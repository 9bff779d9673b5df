import assert from "node:assert/strict";
import { test } from "node:test";

import { linkify, safeHref } from "../src/linkify.js";

const links = (text) => linkify(text).filter((s) => s.type === "link");

test("http and https URLs become links; the text around them stays text", () => {
  assert.deepEqual(linkify("see https://example.com/a?b=1 now"), [
    { type: "text", value: "see " },
    { type: "link", value: "https://example.com/a?b=1", href: "https://example.com/a?b=1" },
    { type: "text", value: " now" },
  ]);
  assert.deepEqual(
    links("http://a.example, and (https://b.example/x).").map((l) => l.href),
    ["http://a.example/", "https://b.example/x"],
  );
  assert.equal(links("https://en.wikipedia.org/wiki/Tent_(disambiguation)")[0].value,
    "https://en.wikipedia.org/wiki/Tent_(disambiguation)");
});

test("no other scheme is ever linked", () => {
  for (const text of [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox",
    "file:///etc/passwd",
    "click javascript://example.com/%0Aalert(1)",
    "https:/broken",
  ]) {
    assert.deepEqual(links(text), [], text);
  }
  assert.equal(safeHref("javascript:alert(1)"), null);
  assert.equal(safeHref("https://ok.example"), "https://ok.example/");
});

test("markup in a message stays text", () => {
  const text = '<img src=x onerror=alert(1)> <a href="javascript:x">y</a>';
  assert.deepEqual(linkify(text), [{ type: "text", value: text }]);
});

test("quotes and angle brackets end a URL, so they cannot smuggle attributes", () => {
  const [link] = links('https://ok.example/"onmouseover="alert(1)');
  assert.equal(link.href, "https://ok.example/");
  const segments = linkify('https://ok.example/"onmouseover="alert(1)');
  assert.equal(segments.map((s) => s.value).join(""), 'https://ok.example/"onmouseover="alert(1)');
});
