// The chat socket's wire format (docs/PROTOCOL.md, "Chat socket"): building client frames,
// checking server frames, and what the widget does after each close code.

import { cleanStatus } from "./availability.js";

export const MAX_TEXT_LENGTH = 4000;
export const MAX_RATING_COMMENT = 1000;
export const MAX_FRAME_BYTES = 16 * 1024;
export const HISTORY_PAGE = 50;

const SERVER_TYPES = new Set([
  "ready",
  "ack",
  "message",
  "typing",
  "read",
  "history",
  "error",
  "pong",
  "closed",
  "presence",
  "status",
  "transcript",
]);

const frame = (fields) => JSON.stringify(fields);
export const statusFrame = () => frame({ type: "status" });
export const transcriptFrame = (email) =>
  frame(email ? { type: "transcript", email } : { type: "transcript" });

export const authFrame = (token, since) =>
  frame(since == null ? { type: "auth", token } : { type: "auth", token, since });
export const messageFrame = (clientId, text, attachments = []) =>
  frame(
    attachments.length
      ? { type: "message", client_id: clientId, text, attachments: attachments.map((file) => file.id) }
      : { type: "message", client_id: clientId, text },
  );
export const MAX_DRAFT_LENGTH = 500;
export const typingFrame = (state, draft) =>
  frame(
    state && typeof draft === "string" && draft
      ? { type: "typing", state: true, draft: [...draft].slice(0, MAX_DRAFT_LENGTH).join("") }
      : { type: "typing", state: !!state },
  );
export const contextFrame = ({ page_url, page_title }) => frame({ type: "context", page_url, page_title });
export const readFrame = (upTo) => frame({ type: "read", up_to: upTo });
export const historyFrame = (before, limit = HISTORY_PAGE) =>
  frame({ type: "history", before, limit });
export const PING_FRAME = frame({ type: "ping" });

const byteLength = (text) => new TextEncoder().encode(text).length;

// The text a visitor may send, trimmed; or an error code when the server would refuse it.
export function checkText(raw, { files = false } = {}) {
  const text = String(raw ?? "").trim();
  if (!text && !files) return { error: "empty" };
  // The server counts characters (code points), not UTF-16 units.
  if ([...text].length > MAX_TEXT_LENGTH) return { error: "too_long" };
  // Escaped control characters can make a 4000-character text exceed the frame limit.
  if (byteLength(messageFrame("00000000-0000-0000-0000-000000000000", text)) > MAX_FRAME_BYTES) {
    return { error: "too_long" };
  }
  return { text };
}

const isId = (value) => Number.isSafeInteger(value) && value >= 0;
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

function cleanAuthor(author) {
  if (!isObject(author)) return { kind: "system", id: null, name: "" };
  const kind = ["visitor", "agent", "system"].includes(author.kind) ? author.kind : "system";
  return {
    kind,
    id: author.id == null ? null : String(author.id),
    name: typeof author.name === "string" ? author.name : "",
  };
}

const isWebUrl = (value) => typeof value === "string" && /^https?:\/\//.test(value);

// A message's file, or null: its links must be web addresses (they go into href and src).
export function cleanAttachment(file) {
  if (!isObject(file) || typeof file.id !== "string" || !isWebUrl(file.url)) return null;
  return {
    id: file.id,
    name: typeof file.name === "string" ? file.name : "file",
    content_type: typeof file.content_type === "string" ? file.content_type : "",
    size: isId(file.size) ? file.size : 0,
    url: file.url,
    thumbnail_url: isWebUrl(file.thumbnail_url) ? file.thumbnail_url : null,
  };
}

export function cleanMessage(message) {
  if (!isObject(message) || !isId(message.id) || typeof message.text !== "string") return null;
  const attachments = Array.isArray(message.attachments)
    ? message.attachments.map(cleanAttachment).filter(Boolean)
    : [];
  return {
    id: message.id,
    client_id: typeof message.client_id === "string" ? message.client_id : null,
    text: message.text,
    ts: typeof message.ts === "string" || typeof message.ts === "number" ? message.ts : null,
    author: cleanAuthor(message.author),
    attachments,
  };
}

const cleanMessages = (list) => (Array.isArray(list) ? list.map(cleanMessage).filter(Boolean) : []);

const CLEANERS = {
  ready: (f) => ({
    type: "ready",
    room: String(f.room ?? ""),
    visitor_id: f.visitor_id == null ? null : String(f.visitor_id),
    messages: cleanMessages(f.messages),
    has_more: f.has_more === true,
    visitor_read_up_to: isId(f.visitor_read_up_to) ? f.visitor_read_up_to : 0,
    agent_read_up_to: isId(f.agent_read_up_to) ? f.agent_read_up_to : 0,
    closed: f.status === "closed",
    availability: isObject(f.availability) ? cleanStatus(f.availability) : null,
  }),
  presence: (f) => {
    const status = cleanStatus(f);
    return { type: "presence", agents: status.agents, reply_minutes: status.reply_minutes };
  },
  status: (f) => (isObject(f.status) ? { type: "status", status: cleanStatus(f.status) } : null),
  ack: (f) =>
    typeof f.client_id === "string" && isId(f.id)
      ? { type: "ack", client_id: f.client_id, id: f.id, ts: f.ts ?? null }
      : null,
  message: (f) => {
    const message = cleanMessage(f);
    return message && { type: "message", ...message };
  },
  typing: (f) => ({ type: "typing", author: cleanAuthor(f.author), state: f.state === true }),
  read: (f) => (isId(f.up_to) ? { type: "read", author: cleanAuthor(f.author), up_to: f.up_to } : null),
  history: (f) => ({ type: "history", messages: cleanMessages(f.messages), has_more: f.has_more === true }),
  error: (f) => ({
    type: "error",
    code: String(f.code ?? "unknown"),
    message: String(f.message ?? ""),
    retry_after: typeof f.retry_after === "number" && f.retry_after >= 0 ? f.retry_after : null,
    client_id: typeof f.client_id === "string" ? f.client_id : null,
  }),
  pong: () => ({ type: "pong" }),
  closed: () => ({ type: "closed" }),
  transcript: (f) => ({ type: "transcript", email: String(f.email ?? "") }),
};

// A server frame as a clean object, or null for anything that is not a frame of the contract.
export function parseFrame(data) {
  if (typeof data !== "string") return null;
  let raw;
  try {
    raw = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(raw) || !SERVER_TYPES.has(raw.type)) return null;
  return CLEANERS[raw.type](raw);
}

// What the widget does after the socket closes with each code (the contract's table).
export const CLOSE_POLICY = {
  1000: "stay", // normal close
  1001: "now", // server going away
  1012: "now", // server restarting
  1011: "backoff", // server error
  4400: "backoff", // protocol violation
  4401: "renew", // bad or expired token: new session, then reconnect
  4402: "slow", // plan limit: offline notice, retry slowly
  4403: "stay", // may not join this room, or key revoked
  4408: "now", // idle without a pong
  4423: "slow", // the account is suspended: offline notice, retry slowly until it is resumed
  4429: "advised", // too many frames or connections: wait as advised
};

// Codes not in the table (1006 for a dropped network, anything new) reconnect with backoff.
export const closeAction = (code) => CLOSE_POLICY[code] ?? "backoff";

// The delay (seconds) a 4429 close advises, from its reason: a number, `retry_after=N`, or
// JSON `{"retry_after": N}`. Null when the reason advises nothing.
export function advisedDelay(reason) {
  if (typeof reason !== "string" || !reason) return null;
  const match = /^\s*(?:\{\s*"retry_after"\s*:\s*|retry_after\s*[=:]\s*)?(\d+(?:\.\d+)?)/.exec(reason);
  return match ? Number(match[1]) : null;
}

// The chat socket URL for a room. The session's `ws_url` may be the full URL of the visitor's
// conversation or only the socket origin; a public room replaces the conversation.
export function chatSocketUrl({ wsUrl, baseUrl, room, siteKey }) {
  const fallback = baseUrl.replace(/^http/, "ws");
  let url;
  try {
    url = new URL(wsUrl || fallback, fallback);
  } catch {
    url = new URL(fallback);
  }
  if (url.protocol === "http:" || url.protocol === "https:") {
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  }
  url.pathname = `/ws/chat/${encodeURIComponent(room)}/`;
  url.hash = "";
  url.searchParams.set("site_key", siteKey);
  return url.href;
}

export const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
