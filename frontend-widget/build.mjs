// Builds the widget into dist/: widget.js (the bundle, one IIFE) and loader.js (/widget.js);
// preview.js, the widget's view without its network for the dashboard's site page (the global
// `ParleyPreview`); and markdown.js, the widget's message formatting for the dashboard's
// conversation page (the global `ParleyMarkdown`); emoji.js, the emoji picker (a module) that
// the widget and the dashboard import the first time it is opened, with its data in
// dist/emoji/<locale>.json; and conversations.js, "Your conversations", a module the widget
// imports when the visitor first opens the list. `node build.mjs` from `make widget`; Parley's
// Django side serves them all (widget/assets.py). The 25 KB budget is the first load of a
// customer's page: widget.js and loader.js; the others are printed apart.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { STRINGS } from "./src/locales.js";

const here = new URL(".", import.meta.url);
const dist = new URL("dist/", here);
const GZIP_LIMIT = 25 * 1024;
// Browsers with Shadow DOM, constructable stylesheets and optional chaining.
const target = ["chrome90", "firefox101", "safari16.4", "edge90"];

const minifiedCss = async (name) =>
  (await esbuild.transform(readFileSync(new URL(`src/${name}`, here), "utf8"), { loader: "css", minify: true, target })).code.trim();
const css = await minifiedCss("widget.css");
const listCss = await minifiedCss("conversations.css");
const previewCss = await minifiedCss("preview.css");

mkdirSync(dist, { recursive: true });
// Every language but English as dist/locales/<locale>.json, fetched by the widget when a page
// needs it; the bundle names each by the hash Django serves it under (widget/assets.py).
const localesDir = new URL("locales/", dist);
rmSync(localesDir, { recursive: true, force: true });
mkdirSync(localesDir);
const localeVersions = {};
for (const [locale, table] of Object.entries(STRINGS)) {
  if (locale === "en") continue;
  const body = JSON.stringify(table);
  writeFileSync(new URL(`${locale}.json`, localesDir), body);
  localeVersions[locale] = createHash("sha256").update(body).digest("hex").slice(0, 20);
}
const common = { bundle: true, minify: true, format: "iife", target, legalComments: "none" };

// The emoji picker's data, one file a language, from emojibase-data (a devDependency): the groups
// in order (not the skin-tone and hair components), each emoji as [emoji, name, search words].
// Nothing newer than Emoji 15.0: the systems of 2023 and later draw all of those, and an emoji a
// system cannot draw shows as an empty box.
const EMOJI_VERSION_MAX = 15;
const emojiDir = new URL("emoji/", dist);
rmSync(emojiDir, { recursive: true, force: true });
mkdirSync(emojiDir);
const emojiData = {};
const emojiSource = (locale, file) =>
  JSON.parse(readFileSync(new URL(`node_modules/emojibase-data/${locale}/${file}`, here), "utf8"));
for (const locale of Object.keys(STRINGS)) {
  const groups = emojiSource(locale, "messages.json").groups
    .filter((group) => group.key !== "component")
    .sort((a, b) => a.order - b.order)
    .map((group) => ({ key: group.key, order: group.order, name: group.message, emoji: [] }));
  const byOrder = new Map(groups.map((group) => [group.order, group]));
  const entries = emojiSource(locale, "data.json")
    .filter((entry) => byOrder.has(entry.group) && entry.version <= EMOJI_VERSION_MAX)
    .sort((a, b) => a.order - b.order);
  for (const entry of entries) {
    byOrder.get(entry.group).emoji.push([entry.emoji, entry.label, (entry.tags ?? []).join(" ")]);
  }
  const body = JSON.stringify({ groups: groups.map(({ key, name, emoji }) => ({ key, name, emoji })) });
  writeFileSync(new URL(`${locale}.json`, emojiDir), body);
  emojiData[locale] = createHash("sha256").update(body).digest("hex").slice(0, 20);
}
// The picker first: the widget's bundle names it by its content's hash.
const emojiCss = await minifiedCss("emoji.css");
await esbuild.build({
  ...common,
  entryPoints: [new URL("src/emoji.js", here).pathname],
  outfile: new URL("emoji.js", dist).pathname,
  format: "esm",
  define: { __PARLEY_EMOJI_CSS__: JSON.stringify(emojiCss), __PARLEY_EMOJI_DATA__: JSON.stringify(emojiData) },
});
const emojiVersion = createHash("sha256").update(readFileSync(new URL("emoji.js", dist))).digest("hex").slice(0, 20);
// "Your conversations" is not in the first load: dist/conversations.js, a module the widget
// imports when the visitor first opens the list, named in the bundle by its content's hash.
await esbuild.build({
  ...common,
  format: "esm",
  entryPoints: [new URL("src/conversations.js", here).pathname],
  outfile: new URL("conversations.js", dist).pathname,
  define: { __PARLEY_LIST_CSS__: JSON.stringify(listCss) },
});
const listVersion = createHash("sha256")
  .update(readFileSync(new URL("conversations.js", dist)))
  .digest("hex")
  .slice(0, 20);
await esbuild.build({
  ...common,
  entryPoints: [new URL("src/main.js", here).pathname],
  outfile: new URL("widget.js", dist).pathname,
  define: {
    __PARLEY_CSS__: JSON.stringify(css),
    __PARLEY_LOCALES__: JSON.stringify(localeVersions),
    __PARLEY_EMOJI__: JSON.stringify(emojiVersion),
    __PARLEY_LIST__: JSON.stringify(listVersion),
  },
});
await esbuild.build({
  ...common,
  entryPoints: [new URL("src/preview.js", here).pathname],
  outfile: new URL("preview.js", dist).pathname,
  globalName: "ParleyPreview",
  define: { __PARLEY_CSS__: JSON.stringify(css + previewCss) },
});
await esbuild.build({
  ...common,
  entryPoints: [new URL("src/dashboard_markdown.js", here).pathname],
  outfile: new URL("markdown.js", dist).pathname,
});
await esbuild.build({
  ...common,
  entryPoints: [new URL("src/loader.js", here).pathname],
  outfile: new URL("loader.js", dist).pathname,
});

const size = (name) => {
  const bytes = readFileSync(new URL(name, dist));
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
const line = (name, { raw, gzip }, note = "") =>
  `  ${name.padEnd(10)} ${String(raw).padStart(7)} bytes, ${String(gzip).padStart(6)} gzipped${note}`;
let total = { raw: 0, gzip: 0 };
const lines = [];
for (const name of ["widget.js", "loader.js"]) {
  const { raw, gzip } = size(name);
  total = { raw: total.raw + raw, gzip: total.gzip + gzip };
  lines.push(line(name, { raw, gzip }));
}
const preview = size("preview.js");
const markdown = size("markdown.js");
const emoji = size("emoji.js");
const emojiEn = size("emoji/en.json");
const list = size("conversations.js");
const report = { ...total, limit: GZIP_LIMIT, preview, markdown, emoji, conversations: list };
writeFileSync(new URL("size.json", dist), JSON.stringify(report) + "\n");
console.log(
  `widget bundle size:\n${lines.join("\n")}\n${line("total", total, ` (limit ${GZIP_LIMIT})`)}\n` +
    `loaded when the visitor opens "Your conversations" (not in the budget):\n${line("conversations.js", list)}\n` +
    `the dashboard's (not in the budget):\n${line("preview.js", preview)}\n${line("markdown.js", markdown)}\n` +
    `the emoji picker's, on its first opening (not in the budget):\n${line("emoji.js", emoji)}\n` +
    line("emoji/en.json", emojiEn, " (a file a language)"),
);
if (total.gzip > GZIP_LIMIT) {
  console.error(`widget bundle is ${total.gzip} bytes gzipped, over the ${GZIP_LIMIT}-byte limit`);
  process.exit(1);
}
