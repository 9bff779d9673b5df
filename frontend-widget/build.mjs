// Builds the widget into dist/: widget.js (the bundle, one IIFE) and loader.js (/widget.js).
// `node build.mjs` from `make widget`; Parley's Django side serves both (widget/assets.py).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = new URL(".", import.meta.url);
const dist = new URL("dist/", here);
const GZIP_LIMIT = 25 * 1024;
// Browsers with Shadow DOM, constructable stylesheets and optional chaining.
const target = ["chrome90", "firefox101", "safari16.4", "edge90"];

const css = await esbuild.transform(readFileSync(new URL("src/widget.css", here), "utf8"), {
  loader: "css",
  minify: true,
  target,
});

mkdirSync(dist, { recursive: true });
const common = { bundle: true, minify: true, format: "iife", target, legalComments: "none" };
await esbuild.build({
  ...common,
  entryPoints: [new URL("src/main.js", here).pathname],
  outfile: new URL("widget.js", dist).pathname,
  define: { __PARLEY_CSS__: JSON.stringify(css.code.trim()) },
});
await esbuild.build({
  ...common,
  entryPoints: [new URL("src/loader.js", here).pathname],
  outfile: new URL("loader.js", dist).pathname,
});

let total = { raw: 0, gzip: 0 };
const lines = [];
for (const name of ["widget.js", "loader.js"]) {
  const bytes = readFileSync(new URL(name, dist));
  const gzip = gzipSync(bytes, { level: 9 }).length;
  total = { raw: total.raw + bytes.length, gzip: total.gzip + gzip };
  lines.push(`  ${name.padEnd(10)} ${String(bytes.length).padStart(7)} bytes, ${String(gzip).padStart(6)} gzipped`);
}
const report = { ...total, limit: GZIP_LIMIT };
writeFileSync(new URL("size.json", dist), JSON.stringify(report) + "\n");
console.log(`widget bundle size:\n${lines.join("\n")}\n  total      ${String(total.raw).padStart(7)} bytes, ${String(total.gzip).padStart(6)} gzipped (limit ${GZIP_LIMIT})`);
if (total.gzip > GZIP_LIMIT) {
  console.error(`widget bundle is ${total.gzip} bytes gzipped, over the ${GZIP_LIMIT}-byte limit`);
  process.exit(1);
}
