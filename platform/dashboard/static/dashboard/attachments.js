// The conversation composer's files: picked with Attach, pasted into the reply box or dropped on
// the composer. Each uploads at once (POST /conversations/<id>/attachments/, the form's CSRF
// token in X-CSRFToken) with its progress and a Remove button that cancels it; an uploaded one
// becomes a hidden `attachments` input of the reply form, so the reply sends it by id over the
// socket (inbox.js) or in the form post. Names reach the page through textContent only.
// Nothing the network cuts is lost: see `upload`.
(function () {
  "use strict";

  const form = document.getElementById("reply-form");
  const picker = document.getElementById("attach-input");
  const list = document.getElementById("composer-files");
  if (!form || !picker || !list) return;
  const textarea = form.querySelector("textarea");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  const uploadUrl = picker.dataset.uploadUrl;
  const REASONS = {
    payload_too_large: "is too large to send",
    unsupported_type: "is a type of file that cannot be sent here",
  };

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The list shows while it holds a file; inbox.js hears of every change (a reply waiting for
  // its files goes once none is uploading or waiting).
  function changed() {
    list.hidden = list.children.length === 0;
    document.dispatchEvent(new CustomEvent("parley:uploads-changed"));
  }

  // An upload the network cut, or a busy server refused (429, 5xx), waits: it says so, keeps a
  // Retry button and goes again by itself once the agent's socket is back (inbox.js tells
  // `parley:live`) or the browser is online. One the server refused for good says why.
  function upload(file) {
    const item = element("li", "composer-file");
    const name = element("span", "file-name", file.name || "file");
    const bar = element("progress");
    const retry = element("button", "retry", "Retry");
    retry.type = "button";
    retry.setAttribute("aria-label", `Retry ${file.name}`);
    retry.hidden = true;
    const remove = element("button", "", "Remove");
    remove.type = "button";
    remove.setAttribute("aria-label", `Remove ${file.name}`);
    item.append(name, bar, retry, remove);
    list.append(item);
    let request = null;
    let hidden = null;

    function settle(state, text) {
      request = null;
      bar.remove();
      item.classList.remove("uploading");
      item.classList.add(state);
      if (text) name.textContent = text;
      retry.hidden = state !== "waiting";
      if (state === "failed") item.setAttribute("role", "alert");
      changed();
    }

    function start() {
      item.className = "composer-file uploading";
      item.removeAttribute("role");
      name.textContent = file.name || "file";
      retry.hidden = true;
      bar.max = file.size || 1;
      bar.value = 0;
      bar.setAttribute("aria-label", `Uploading ${file.name}`);
      name.after(bar);
      request = new XMLHttpRequest();
      const current = request;
      request.upload.addEventListener("progress", (event) => {
        bar.max = event.total || bar.max;
        bar.value = event.loaded;
      });
      request.addEventListener("load", () => {
        const body = current.response;
        if (current.status === 201 && body && typeof body.id === "string") {
          item.dataset.attachment = JSON.stringify(body);
          if (body.thumbnail_url) {
            const image = element("img");
            image.src = body.thumbnail_url;
            image.alt = "";
            item.prepend(image);
          }
          hidden = element("input");
          hidden.type = "hidden";
          hidden.name = "attachments";
          hidden.value = body.id;
          item.append(hidden);
          settle("ready");
        } else if (current.status === 429 || current.status >= 500) {
          settle("waiting", `${file.name} is not uploaded yet`);
        } else {
          const code = body && body.error ? body.error.code : "";
          settle("failed", `${file.name} ${REASONS[code] || "could not be uploaded"}`);
        }
      });
      request.addEventListener("error", () => settle("waiting", `${file.name} is not uploaded yet: it goes when the connection is back`));
      request.open("POST", uploadUrl);
      request.responseType = "json";
      request.setRequestHeader("X-CSRFToken", csrf ? csrf.value : "");
      const body = new FormData();
      body.append("file", file, file.name);
      request.send(body);
      changed();
    }

    item.retryUpload = start;
    retry.addEventListener("click", start);
    remove.addEventListener("click", () => {
      if (request) request.abort();
      if (hidden) hidden.remove();
      item.remove();
      changed();
      textarea.focus();
    });
    start();
  }

  function retryWaiting() {
    for (const item of Array.from(list.querySelectorAll(".composer-file.waiting"))) item.retryUpload();
  }
  document.addEventListener("parley:live", retryWaiting);
  window.addEventListener("online", retryWaiting);

  function add(files) {
    for (const file of Array.from(files || []).slice(0, 10)) upload(file);
  }

  picker.addEventListener("change", () => {
    add(picker.files);
    picker.value = "";
  });
  textarea.addEventListener("paste", (event) => {
    const files = event.clipboardData && event.clipboardData.files;
    if (files && files.length) {
      event.preventDefault();
      add(files);
    }
  });
  form.addEventListener("dragover", (event) => {
    if (event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) {
      event.preventDefault();
      form.classList.add("dropping");
    }
  });
  form.addEventListener("dragleave", (event) => {
    if (event.target === form) form.classList.remove("dropping");
  });
  form.addEventListener("drop", (event) => {
    form.classList.remove("dropping");
    if (event.dataTransfer && event.dataTransfer.files.length) {
      event.preventDefault();
      add(event.dataTransfer.files);
    }
  });

  // inbox.js sent the reply with these files: they leave the composer.
  document.addEventListener("parley:attachments-sent", () => {
    for (const item of Array.from(list.querySelectorAll(".composer-file.ready"))) item.remove();
    changed();
  });
})();
