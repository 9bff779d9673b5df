// The visitor's forms over the widget HTTP API (PROTOCOL.md, Pre-chat and offline forms): the
// answer is {ok: true, body} or {ok: false, fields: {name: problem}, code}.

export const FIELD_TYPES = ["text", "email", "number", "select", "checkbox"];

export function cleanPrechat(raw) {
  const prechat = raw && typeof raw === "object" ? raw : {};
  const fields = Array.isArray(prechat.fields) ? prechat.fields : [];
  return {
    mode: ["none", "name_email", "email_required"].includes(prechat.mode) ? prechat.mode : "none",
    done: prechat.done !== false,
    fields: fields
      .filter((field) => field && typeof field.key === "string" && FIELD_TYPES.includes(field.type))
      .map((field) => ({
        key: field.key,
        label: typeof field.label === "string" ? field.label : field.key,
        type: field.type,
        required: field.required === true,
        options: Array.isArray(field.options) ? field.options.filter((o) => typeof o === "string") : [],
      })),
  };
}

// The problem texts the server sends, as the widget's own words (keys of i18n.js).
const PROBLEMS = {
  "is required": "fieldRequired",
  "must be ticked": "fieldRequired",
  "is not an email address": "fieldEmail",
  "is not a number": "fieldNumber",
};

export function problemKey(problem) {
  return PROBLEMS[problem] ?? "fieldInvalid";
}

export async function postForm({ fetch, baseUrl, path, body }) {
  let response;
  try {
    response = await fetch(`${baseUrl}/api/widget/v1/${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      mode: "cors",
    });
  } catch {
    return { ok: false, code: "unreachable", fields: {} };
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (response.ok) return { ok: true, body: payload };
  const error = payload?.error ?? {};
  return {
    ok: false,
    code: typeof error.code === "string" ? error.code : "server_error",
    fields: error.fields && typeof error.fields === "object" ? error.fields : {},
  };
}
