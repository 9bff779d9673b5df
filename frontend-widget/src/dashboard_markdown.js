// The widget's message formatting for the dashboard's pages (docs/PROTOCOL.md, "Message
// formatting"): build.mjs bundles this file into dist/markdown.js, which the dashboard's host
// serves under its content hash (widget/assets.py). window.ParleyMarkdown.render(text) returns a
// DocumentFragment.
import { render } from "./markdown.js";

window.ParleyMarkdown = Object.freeze({ render: (text) => render(text, window.document) });
