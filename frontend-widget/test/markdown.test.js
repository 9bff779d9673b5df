import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { LINK_REL, parse, plainText, render } from "../src/markdown.js";
import { fakeDocument } from "./fakes.js";
import { serialize } from "./serialize.js";

// The same cases run in chromium, in the widget and in the dashboard
// (tests/e2e/test_markdown_browser.py).
const CASES = JSON.parse(readFileSync(new URL("markdown_cases.json", import.meta.url), "utf8"));
const html = (text) => serialize(render(text, fakeDocument));

test("the shared cases", () => {
  assert.ok(CASES.length >= 30);
  for (const { name, input, html: expected } of CASES) {
    assert.equal(html(input), expected, name);
  }
});

test("links open in a new tab with no referrer and no opener", () => {
  const [link] = render("see https://example.com/x", fakeDocument).childNodes.slice(1);
  assert.equal(link.nodeName, "A");
  assert.equal(link.getAttribute("href"), "https://example.com/x");
  assert.equal(link.getAttribute("target"), "_blank");
  assert.equal(link.getAttribute("rel"), LINK_REL);
  assert.equal(LINK_REL, "noopener noreferrer nofollow");
});

test("no node carries anything but its text, a link's checked href excepted", () => {
  const hostile = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    "[x](javascript:alert(1))",
    "**<b onmouseover=alert(1)>x</b>**",
    "`<iframe src=javascript:alert(1)>`",
    "```\n<svg onload=alert(1)>\n```",
    'https://ok.example/"><script>x</script>',
  ];
  const walk = (nodes) =>
    nodes.flatMap((node) => [node, ...walk(node.children ?? [])]);
  for (const text of hostile) {
    const nodes = walk(parse(text));
    for (const node of nodes) {
      const keys = Object.keys(node).sort().join(",");
      assert.ok(["type,value", "children,type", "type", "href,type,value"].includes(keys), keys);
      if (node.href) assert.match(node.href, /^https?:\/\/[^"<>]+$/);
    }
    const shown = nodes.filter((n) => n.value !== undefined).map((n) => n.value).join("");
    assert.ok(shown.includes("<") || shown.includes("javascript"), text);
  }
});

test("plain text: the message as shown, without its markers", () => {
  const text = "**Order** _#1042_ shipped: `track 1Z999` at https://example.com/t?id=1.\n```\nok\n```";
  assert.equal(plainText(text), "Order #1042 shipped: track 1Z999 at https://example.com/t?id=1.\nok");
  assert.equal(plainText("2 * 3 and **open"), "2 * 3 and **open");
  assert.equal(plainText("*a ".repeat(20_000)).length, 60_000);
});

test("empty and non-string text", () => {
  assert.deepEqual(parse(""), []);
  assert.deepEqual(parse(null), []);
  assert.deepEqual(parse(42), [{ type: "text", value: "42" }]);
});

// Each input is 100,000 characters, 25 times the longest message: a parser quadratic in any of
// them takes minutes here, a linear one milliseconds. The bound is generous for a busy machine.
const SIZE = 100_000;
const repeat = (unit) => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);
const PATHOLOGICAL = {
  "one run of asterisks": repeat("*"),
  "asterisks between letters": repeat("*a"),
  "openers never closed": repeat("**a *b _c "),
  "nested italics": repeat("*a ") + repeat("a* "),
  "alternating markers": repeat("*_"),
  "backtick runs of growing length": Array.from({ length: 600 }, (_, i) => "`".repeat(i + 1) + "x").join(""),
  "single backticks never closed": repeat("`` a"),
  "fences never closed": repeat("```js\n"),
  "fences and markers": repeat("```\n**a\n"),
  "url after url": repeat("https://a.example/*_ "),
  "underscores in words": repeat("a_b_"),
};

for (const [name, text] of Object.entries(PATHOLOGICAL)) {
  test(`pathological input in linear time: ${name}`, () => {
    const started = performance.now();
    const fragment = render(text, fakeDocument);
    const elapsed = performance.now() - started;
    assert.ok(fragment.childNodes.length > 0);
    assert.ok(elapsed < 3000, `${name}: ${Math.round(elapsed)} ms`);
  });
}

test("ten thousand asterisks are ten thousand asterisks", () => {
  assert.deepEqual(parse("*".repeat(10_000)), [{ type: "text", value: "*".repeat(10_000) }]);
});

test("deeply nested emphasis renders without running out of stack", () => {
  const depth = 20_000;
  const nodes = parse("*a ".repeat(depth) + "a* ".repeat(depth));
  let level = 0;
  for (let node = nodes[0]; node && node.type === "em"; node = node.children.find((c) => c.type === "em")) level++;
  assert.equal(level, depth);
  assert.ok(render("*a ".repeat(depth) + "a* ".repeat(depth), fakeDocument).childNodes.length > 0);
});
