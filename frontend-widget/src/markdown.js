// Message text as a small, safe markdown subset, the same in the widget and the dashboard
// (docs/PROTOCOL.md, "Message formatting"): **bold**, *italic* or _italic_, `code`, fenced code
// blocks (``` on a line of its own before and after), autolinked http(s) URLs (linkify.js) and
// line breaks. Anything else, markup included, stays literal text.
//
// parse() turns text into a tree of plain objects; render() builds DOM nodes from that tree
// with createElement and textContent alone, and a link's href only ever comes from safeHref.
// No message text is ever parsed as HTML. Formatting never crosses a line break, and every
// step is linear in the text's length, so no input (10,000 `*`, deep nesting) is slow.

import { linkify } from "./linkify.js";

const FENCE_OPEN = /^```[^`]*$/;
const FENCE_CLOSE = /^```\s*$/;
const BACKTICKS = /`+/g;
const MARKERS = /\*+|_+/g;
const SPACE = /\s/u;
const PUNCTUATION = /[\p{P}\p{S}]/u;
const BREAK = { type: "br" };

export const LINK_REL = "noopener noreferrer nofollow";

export function parse(text) {
  const lines = String(text ?? "").split(/\r\n|\r|\n/);
  // The index of the next closing fence after each line (-1: none), so a fence that is never
  // closed costs one look, not a scan to the end for every opening line.
  const nextClose = new Array(lines.length);
  for (let i = lines.length - 1, next = -1; i >= 0; i--) {
    nextClose[i] = next;
    if (FENCE_CLOSE.test(lines[i])) next = i;
  }
  const nodes = [];
  let atBlockStart = true;
  for (let i = 0; i < lines.length; i++) {
    const close = nextClose[i];
    if (close !== -1 && FENCE_OPEN.test(lines[i])) {
      // The info string after the opening fence (a language name) is markup, not content.
      nodes.push({ type: "pre", value: lines.slice(i + 1, close).join("\n") });
      i = close;
      atBlockStart = true;
      continue;
    }
    if (!atBlockStart) nodes.push(BREAK);
    atBlockStart = false;
    appendAll(nodes, inline(lines[i]));
  }
  return nodes;
}

// One line: code spans first (nothing inside them is formatted), then links in what is left,
// then emphasis over the whole line (around and across code and links, never inside them).
function inline(line) {
  const emphasis = new Emphasis(line);
  let last = 0;
  for (const span of codeSpans(line)) {
    textAndLinks(emphasis, line, last, span.start);
    emphasis.atom({ type: "code", value: span.value });
    last = span.end;
  }
  textAndLinks(emphasis, line, last, line.length);
  return emphasis.finish();
}

// A code span opens with a run of backticks and closes at the next run of the same length
// (CommonMark); an opening run with no such partner is literal text. The runs are indexed by
// length once, and each length's list is walked forward only: linear in the line.
function codeSpans(line) {
  const runs = [...line.matchAll(BACKTICKS)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
  const byLength = new Map();
  for (const run of runs) {
    const length = run.end - run.start;
    if (!byLength.has(length)) byLength.set(length, { runs: [], next: 0 });
    byLength.get(length).runs.push(run);
  }
  const spans = [];
  let position = 0;
  for (const run of runs) {
    if (run.start < position) continue;
    const same = byLength.get(run.end - run.start);
    while (same.next < same.runs.length && same.runs[same.next].start <= run.start) same.next++;
    const partner = same.runs[same.next];
    if (!partner) continue;
    let value = line.slice(run.end, partner.start);
    // `` ` `` shows a backtick: one space inside each end is padding, not content.
    if (value.length > 2 && value.startsWith(" ") && value.endsWith(" ") && value.trim()) {
      value = value.slice(1, -1);
    }
    spans.push({ start: run.start, end: partner.end, value });
    position = partner.end;
  }
  return spans;
}

function textAndLinks(emphasis, line, start, end) {
  if (start >= end) return;
  let offset = start;
  for (const segment of linkify(line.slice(start, end))) {
    if (segment.type === "link") emphasis.atom(segment);
    else emphasis.text(segment.value, offset);
    offset += segment.value.length;
  }
}

// Emphasis with CommonMark's flanking rules, simplified: `**` is bold, `*` and `_` italic; any
// other run of markers (`***`, `__`) is literal. Open markers wait on a stack; a closing marker
// pairs with the nearest open one of its kind, and markers opened in between become literal
// text. Every node is moved at most once, when the marker around it closes.
class Emphasis {
  constructor(line) {
    this.line = line;
    this.stack = [{ children: [], depth: 0 }];
    this.open = { "*": [], "**": [], _: [] };
  }

  atom(node) {
    push(this.top.children, node);
  }

  text(value, offset) {
    let last = 0;
    for (const match of value.matchAll(MARKERS)) {
      if (match.index > last) push(this.top.children, { type: "text", value: value.slice(last, match.index) });
      this.marker(match[0], offset + match.index);
      last = match.index + match[0].length;
    }
    if (last < value.length) push(this.top.children, { type: "text", value: value.slice(last) });
  }

  get top() {
    return this.stack[this.stack.length - 1];
  }

  marker(run, at) {
    const kind = run === "*" || run === "**" || run === "_" ? run : null;
    const { canOpen, canClose } = flanking(this.line, at, at + run.length, run[0]);
    if (kind && canClose && this.open[kind].length) {
      this.close(this.open[kind][this.open[kind].length - 1]);
    } else if (kind && canOpen) {
      const frame = { kind, children: [], depth: this.stack.length };
      this.stack.push(frame);
      this.open[kind].push(frame);
    } else {
      push(this.top.children, { type: "text", value: run });
    }
  }

  // Folds the frames above `frame` into it as literal markers, then closes it.
  close(frame) {
    this.foldAbove(frame);
    this.stack.pop();
    this.open[frame.kind].pop();
    push(this.top.children, { type: frame.kind === "**" ? "strong" : "em", children: frame.children });
  }

  foldAbove(frame) {
    for (let i = frame.depth + 1; i < this.stack.length; i++) {
      const above = this.stack[i];
      this.open[above.kind].pop();
      push(frame.children, { type: "text", value: above.kind });
      appendAll(frame.children, above.children);
    }
    this.stack.length = frame.depth + 1;
  }

  // The line's end: markers still open were literal after all.
  finish() {
    const root = this.stack[0];
    this.foldAbove(root);
    return root.children;
  }
}

function flanking(line, start, end, char) {
  const before = line[start - 1];
  const after = line[end];
  const spaceBefore = before === undefined || SPACE.test(before);
  const spaceAfter = after === undefined || SPACE.test(after);
  const punctBefore = before !== undefined && PUNCTUATION.test(before);
  const punctAfter = after !== undefined && PUNCTUATION.test(after);
  const left = !spaceAfter && (!punctAfter || spaceBefore || punctBefore);
  const right = !spaceBefore && (!punctBefore || spaceAfter || punctAfter);
  if (char === "_") {
    // snake_case_names stay as they are: `_` opens and closes only at a word's edge.
    return { canOpen: left && (!right || punctBefore), canClose: right && (!left || punctAfter) };
  }
  return { canOpen: left, canClose: right };
}

// Adjacent text nodes merge, so the tree (and the DOM) has one text node per run of text.
function push(children, node) {
  const last = children[children.length - 1];
  if (node.type === "text" && last && last.type === "text") {
    children[children.length - 1] = { type: "text", value: last.value + node.value };
  } else {
    children.push(node);
  }
}

function appendAll(children, nodes) {
  for (const node of nodes) push(children, node);
}

// The text as shown, without its markers: for what cannot show formatting (the widget's
// screen-reader announcement of a new message).
export function plainText(text) {
  let out = "";
  const pending = [{ nodes: parse(text), next: 0 }];
  while (pending.length) {
    const level = pending[pending.length - 1];
    if (level.next === level.nodes.length) {
      pending.pop();
      continue;
    }
    const node = level.nodes[level.next++];
    if (node.type === "br") out += "\n";
    else if (node.type === "pre") out += `\n${node.value}\n`; // a block: on lines of its own
    else if (node.children) pending.push({ nodes: node.children, next: 0 });
    else out += node.value;
  }
  return out.replace(/^\n|\n$/g, "");
}

// The formatted text as a DocumentFragment of `document`.
export function render(text, document) {
  const fragment = document.createDocumentFragment();
  build(document, fragment, parse(text));
  return fragment;
}

const TAGS = { strong: "strong", em: "em", code: "code", br: "br", link: "a" };

// Iterative, so however deep the emphasis nests no call stack runs out.
function build(document, fragment, nodes) {
  const pending = [{ parent: fragment, nodes, next: 0 }];
  while (pending.length) {
    const level = pending[pending.length - 1];
    if (level.next === level.nodes.length) {
      pending.pop();
      continue;
    }
    const node = level.nodes[level.next++];
    if (node.type === "text") {
      level.parent.append(document.createTextNode(node.value));
      continue;
    }
    const element = document.createElement(node.type === "pre" ? "pre" : TAGS[node.type]);
    level.parent.append(element);
    if (node.type === "pre") {
      const code = document.createElement("code");
      code.textContent = node.value;
      element.append(code);
    } else if (node.type === "code") {
      element.textContent = node.value;
    } else if (node.type === "link") {
      element.textContent = node.value;
      element.setAttribute("href", node.href);
      element.setAttribute("target", "_blank");
      element.setAttribute("rel", LINK_REL);
    } else if (node.children) {
      pending.push({ parent: element, nodes: node.children, next: 0 });
    }
  }
}
