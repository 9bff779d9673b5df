// Message text as plain-text and link segments. Only absolute http(s) URLs become links; the
// view renders every segment with textContent and sets a link's href from `href` below, so no
// message text is ever parsed as HTML and no other URL scheme (javascript:, data:) is linked.
// markdown.js finds links with linkify(); a URL neither starts inside a word nor ends in
// sentence punctuation or an emphasis marker (`**https://example.com**` is a bold link).

const URL_CANDIDATE = /(?<![\p{L}\p{N}])https?:\/\/[^\s<>"'`]+/giu;
const TRAILING = /[.,;:!?'")\]}>*_]+$/;

export function safeHref(candidate) {
  let url;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (!url.hostname) return null;
  return url.href;
}

export function linkify(text) {
  const source = String(text);
  const segments = [];
  let last = 0;
  const pushText = (value) => {
    if (value) segments.push({ type: "text", value });
  };
  for (const match of source.matchAll(URL_CANDIDATE)) {
    let value = match[0];
    // Sentence punctuation after a URL is not part of it; a ")" is when the URL opened one.
    const trailing = TRAILING.exec(value);
    if (trailing) {
      let cut = trailing[0];
      if (cut.startsWith(")") && value.includes("(")) cut = cut.slice(1);
      value = value.slice(0, value.length - cut.length);
    }
    const href = safeHref(value);
    if (!href) continue;
    pushText(source.slice(last, match.index));
    segments.push({ type: "link", value, href });
    last = match.index + value.length;
  }
  pushText(source.slice(last));
  return segments;
}
