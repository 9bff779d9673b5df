import assert from "node:assert/strict";
import { test } from "node:test";

import { themeRule } from "../src/ui.js";

test("a site color becomes the theme, with readable text on it", () => {
  assert.equal(themeRule("#14532d"), ":host{--pc:#14532d;--pt:#fff}");
  assert.equal(themeRule("#fde047"), ":host{--pc:#fde047;--pt:#111827}");
  assert.equal(themeRule("#FFF"), ":host{--pc:#FFF;--pt:#111827}");
});

test("anything but a plain hex color is ignored: tenant data never writes CSS", () => {
  for (const color of ["red;}*{display:none}", "#12345", "url(x)", "", "#1234567", "expression(1)"]) {
    assert.equal(themeRule(color), "", color);
  }
});
