// Files the visitor attaches before sending (docs/PROTOCOL.md, Attachments): each is uploaded at
// once over HTTP (`POST /api/widget/v1/attachments`, the visitor token in a header), with its
// progress, and can be cancelled; the message then names the uploaded ids. An upload cut by the
// network is tried again once the widget is back online (`retry`).

export const MAX_FILES = 10;

export function createUploads({ XMLHttpRequest, uploadUrl, token, onChange }) {
  let items = []; // {key, file, name, state: "uploading"|"ready"|"failed", loaded, total, xhr, attachment, error}
  let counter = 0;
  const changed = () => onChange(items.map(({ key, name, state, loaded, total, attachment, error }) => ({
    key, name, state, loaded, total, error, thumbnail: attachment?.thumbnail_url ?? null,
  })));

  function start(item) {
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    item.state = "uploading";
    item.loaded = 0;
    item.error = null;
    xhr.open("POST", uploadUrl());
    xhr.setRequestHeader("Authorization", `Bearer ${token()}`);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      item.loaded = event.loaded;
      item.total = event.total || item.total;
      changed();
    });
    xhr.addEventListener("load", () => {
      item.xhr = null;
      const body = xhr.response;
      if (xhr.status === 201 && body && typeof body.id === "string") {
        item.state = "ready";
        item.attachment = body;
      } else {
        item.state = "failed";
        item.error = body?.error?.code ?? `http_${xhr.status}`;
        item.retryable = xhr.status === 429 || xhr.status >= 500;
      }
      changed();
    });
    xhr.addEventListener("error", () => {
      item.xhr = null;
      item.state = "failed";
      item.error = "unreachable";
      item.retryable = true;
      changed();
    });
    const body = new FormData();
    body.append("file", item.file, item.name);
    xhr.send(body);
  }

  return {
    add(files) {
      for (const file of Array.from(files ?? [])) {
        if (items.length >= MAX_FILES) break;
        const item = { key: `u${++counter}`, file, name: file.name || "file", total: file.size, loaded: 0 };
        items.push(item);
        start(item);
      }
      changed();
    },
    cancel(key) {
      const item = items.find((candidate) => candidate.key === key);
      if (!item) return;
      item.xhr?.abort();
      items = items.filter((candidate) => candidate !== item);
      changed();
    },
    // After a reconnect: the uploads the network cut (or a busy server refused) go again.
    retry() {
      for (const item of items) if (item.state === "failed" && item.retryable) start(item);
      changed();
    },
    busy: () => items.some((item) => item.state === "uploading"),
    // The uploaded files, to send with a message; they leave the list.
    take() {
      const ready = items.filter((item) => item.state === "ready");
      items = items.filter((item) => item.state !== "ready");
      changed();
      return ready.map((item) => item.attachment);
    },
    destroy() {
      for (const item of items) item.xhr?.abort();
      items = [];
    },
  };
}
