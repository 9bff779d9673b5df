// The widget HTTP API: `POST /api/widget/v1/session` gives the visitor token, the conversation
// and the site's appearance. Errors come back typed so the widget can tell a misconfigured embed
// (no widget, one console message) from a passing outage (retry).

import { cleanStatus } from "./availability.js";
import { cleanPrechat } from "./forms.js";

export class SessionError extends Error {
  constructor(code, status, message, retryAfter = null) {
    super(message || code);
    this.name = "SessionError";
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }

  // Errors that no retry can fix: the embed or the identity is wrong.
  get fatal() {
    return this.status === 400 || this.status === 401 || this.status === 403 || this.status === 404;
  }
}

const STATUS_CODES = {
  400: "bad_request",
  401: "invalid_token",
  403: "origin_not_allowed",
  404: "unknown_site_key",
  413: "payload_too_large",
  429: "rate_limited",
};

function checkSession(body) {
  const ok =
    body &&
    typeof body.token === "string" &&
    typeof body.conversation === "string" &&
    (body.ws_url == null || typeof body.ws_url === "string");
  if (!ok) throw new SessionError("bad_response", 200, "the session answer is not what Parley sends");
  const site = body.site && typeof body.site === "object" ? body.site : {};
  return {
    visitor_id: body.visitor_id == null ? null : String(body.visitor_id),
    token: body.token,
    expires_at: body.expires_at ?? null,
    conversation: body.conversation,
    ws_url: body.ws_url ?? null,
    site: {
      name: typeof site.name === "string" ? site.name : "",
      color: typeof site.color === "string" ? site.color : "",
      greeting: typeof site.greeting === "string" ? site.greeting : "",
      position: site.position === "left" ? "left" : "right",
      locale: typeof site.locale === "string" ? site.locale : "",
      public_rooms: site.public_rooms ?? false,
      agents_online: site.agents_online ?? null,
      typing_preview: site.typing_preview === true,
      // A server from before the status said only whether agents were online.
      status: cleanStatus(site.status ?? { agents: site.agents_online === true ? "online" : "offline" }),
      away_message: typeof site.away_message === "string" ? site.away_message : "",
      out_of_hours: ["offline_form", "hide_launcher", "chat"].includes(site.out_of_hours) ? site.out_of_hours : "chat",
      offline_form_when_unavailable: site.offline_form_when_unavailable === true,
      // null from a server from before the list: the clip is offered, the upload decides.
      attachment_types: Array.isArray(site.attachment_types) ? site.attachment_types.filter((type) => typeof type === "string") : null,
    },
    prechat: cleanPrechat(body.prechat),
  };
}

// The answer's JSON body, or the SessionError its status and body say.
async function answerOf(response) {
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const error = payload && typeof payload.error === "object" ? payload.error : {};
    const retryAfter = typeof payload?.retry_after === "number" ? payload.retry_after : null;
    throw new SessionError(
      typeof error.code === "string" ? error.code : (STATUS_CODES[response.status] ?? "server_error"),
      response.status,
      typeof error.message === "string" ? error.message : "",
      retryAfter,
    );
  }
  return payload;
}

// A request to the widget API, never with cookies; a network failure (or a refused CORS check,
// which looks exactly the same from inside the page) is `unreachable`.
async function call(fetch, url, init) {
  let response;
  try {
    response = await fetch(url, { credentials: "omit", mode: "cors", ...init });
  } catch {
    throw new SessionError("unreachable", 0, "Parley could not be reached");
  }
  return answerOf(response);
}

const postJson = (fetch, url, body) =>
  call(fetch, url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

// `choice`: `{conversation: "cv_…"}` or `{new_conversation: true}` opens another of the
// visitor's conversations (PROTOCOL.md, Several conversations); without it, the token's own.
export async function requestSession({ fetch, baseUrl, siteKey, visitorToken, user, context, consent, choice }) {
  const body = { site_key: siteKey, ...choice };
  if (consent) body.consent = true;
  if (visitorToken) body.visitor_token = visitorToken;
  if (user) body.user = user;
  if (context) body.context = context;
  return checkSession(await postJson(fetch, `${baseUrl}/api/widget/v1/session`, body));
}

// `POST /api/widget/v1/rating`: the visitor's 1 to 5 (and comment) for their closed conversation.
export const sendRating = ({ fetch, baseUrl, siteKey, token, score, comment }) =>
  postJson(fetch, `${baseUrl}/api/widget/v1/rating`, { site_key: siteKey, visitor_token: token, score, comment });

// `GET /api/widget/v1/conversations`: the visitor's conversations, most recently active first.
export async function requestConversations({ fetch, baseUrl, siteKey, token }) {
  const body = await call(fetch, `${baseUrl}/api/widget/v1/conversations?site_key=${encodeURIComponent(siteKey)}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return Array.isArray(body?.conversations) ? body.conversations : [];
}

// `GET /api/widget/v1/site`: the site's look and whether it asks the visitor's consent first.
// It creates nothing on the server, so the widget may call it before the visitor has agreed.
export async function requestSite({ fetch, baseUrl, siteKey }) {
  const body = await call(fetch, `${baseUrl}/api/widget/v1/site?site_key=${encodeURIComponent(siteKey)}`);
  const text = (value) => (typeof value === "string" ? value : "");
  return {
    name: text(body?.name),
    color: text(body?.color),
    greeting: text(body?.greeting),
    position: body?.position === "left" ? "left" : "right",
    locale: text(body?.locale),
    consent_required: body?.consent_required === true,
    consent_text: text(body?.consent_text),
  };
}

// The one console message for an embed that cannot work, naming the problem and the fix.
export function describeSessionError(error, { siteKey, origin, baseUrl }) {
  const detail = error.message && error.message !== error.code ? ` (${error.message})` : "";
  switch (error.code) {
    case "unknown_site_key":
      return `Parley: unknown site key "${siteKey}"${detail}. Check data-site-key in the embed tag; no chat widget is shown.`;
    case "origin_not_allowed":
      return `Parley: this page's origin ${origin} is not allowed for site key "${siteKey}"${detail}. Add it to the site's allowed origins; no chat widget is shown.`;
    case "identity_required":
      return `Parley: site key "${siteKey}" requires a verified identity: call Parley('identify', {id, name, email, hash}); no chat widget is shown until then.`;
    case "identity_invalid":
      return `Parley: the identity given to Parley('identify') was refused${detail}: hash must be hex(HMAC-SHA256(identity secret, user id)); no chat widget is shown.`;
    case "unreachable":
      return `Parley: could not reach ${baseUrl} for site key "${siteKey}": the network failed or this page's origin ${origin} is not allowed. No chat widget is shown.`;
    default:
      return `Parley: the chat session for site key "${siteKey}" was refused: ${error.code}${detail}. No chat widget is shown.`;
  }
}
