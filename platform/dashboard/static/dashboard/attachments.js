// The conversation composer's files: picked with Attach, pasted into the reply box or dropped on
// the composer. Each uploads at once (POST /conversations/<id>/attachments/, the form's CSRF
// token in X-CSRFToken) with its progress and a Remove button that cancels it; an uploaded one
// becomes a hidden `attachments` input of the reply form, so the reply sends it by id over the
// socket (inbox.js) or in the form post. Names reach the page through textContent only.
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

  function refresh() {
    list.hidden = list.children.length === 0;
  }

  function upload(file) {
    const item = element("li", "composer-file uploading");
    const name = element("span", "file-name", file.name || "file");
    const bar = element("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    bar.setAttribute("aria-label", `Uploading ${file.name}`);
    const remove = element("button", "", "Remove");
    remove.type = "button";
    remove.setAttribute("aria-label", `Remove ${file.name}`);
    item.append(name, bar, remove);
    list.append(item);
    refresh();

    const request = new XMLHttpRequest();
    let hidden = null;
    remove.addEventListener("click", () => {
      request.abort();
      if (hidden) hidden.remove();
      item.remove();
      refresh();
      textarea.focus();
    });
    request.upload.addEventListener("progress", (event) => {
      bar.max = event.total || bar.max;
      bar.value = event.loaded;
    });
    request.addEventListener("load", () => {
      bar.remove();
      item.classList.remove("uploading");
      const body = request.response;
      if (request.status === 201 && body && typeof body.id === "string") {
        item.classList.add("ready");
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
      } else {
        const code = body && body.error ? body.error.code : "";
        item.classList.add("failed");
        item.setAttribute("role", "alert");
        name.textContent = `${file.name} ${REASONS[code] || "could not be uploaded"}`;
      }
    });
    request.addEventListener("error", () => {
      bar.remove();
      item.classList.add("failed");
      name.textContent = `${file.name} could not be uploaded`;
    });
    request.open("POST", uploadUrl);
    request.responseType = "json";
    request.setRequestHeader("X-CSRFToken", csrf ? csrf.value : "");
    const body = new FormData();
    body.append("file", file, file.name);
    request.send(body);
  }

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
    refresh();
  });
})();
