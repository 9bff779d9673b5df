import assert from "node:assert/strict";
import { test } from "node:test";

import { createUploads } from "../src/uploads.js";

// A fake XMLHttpRequest whose requests the test answers.
function fakeXhr() {
  const sent = [];
  class FakeXhr {
    constructor() {
      this.headers = {};
      this.listeners = {};
      this.upload = { addEventListener: (name, fn) => (this.uploadProgress = fn) };
      this.aborted = false;
    }
    open(method, url) {
      Object.assign(this, { method, url });
    }
    setRequestHeader(name, value) {
      this.headers[name] = value;
    }
    addEventListener(name, fn) {
      this.listeners[name] = fn;
    }
    send(body) {
      this.body = body;
      sent.push(this);
    }
    abort() {
      this.aborted = true;
    }
    answer(status, response) {
      Object.assign(this, { status, response });
      this.listeners.load();
    }
  }
  return { FakeXhr, sent };
}

const file = (name, size = 10) => new File([new Uint8Array(size)], name);

test("files upload with the token, show progress, and are taken once uploaded", () => {
  const { FakeXhr, sent } = fakeXhr();
  const seen = [];
  const uploads = createUploads({
    XMLHttpRequest: FakeXhr,
    uploadUrl: () => "https://p.test/api/widget/v1/attachments?site_key=pk",
    token: () => "tok",
    onChange: (list) => seen.push(list),
  });
  uploads.add([file("a.png", 100), file("b.pdf")]);
  assert.equal(sent.length, 2);
  assert.equal(sent[0].method, "POST");
  assert.equal(sent[0].headers.Authorization, "Bearer tok");
  assert.equal(sent[0].body.get("file").name, "a.png");
  sent[0].uploadProgress({ loaded: 40, total: 100 });
  assert.deepEqual(
    seen.at(-1).map((u) => [u.name, u.state, u.loaded]),
    [["a.png", "uploading", 40], ["b.pdf", "uploading", 0]],
  );
  assert.equal(uploads.busy(), true);
  sent[0].answer(201, { id: "id-a", thumbnail_url: "https://p.test/files/t" });
  assert.equal(seen.at(-1)[0].thumbnail, "https://p.test/files/t");
  assert.deepEqual(uploads.take().map((a) => a.id), ["id-a"]);
  assert.deepEqual(seen.at(-1).map((u) => u.name), ["b.pdf"]);
  assert.deepEqual(uploads.take(), []);
});

test("a cancelled upload is aborted; a refused one says why; a cut one is retried", () => {
  const { FakeXhr, sent } = fakeXhr();
  let list = [];
  const uploads = createUploads({
    XMLHttpRequest: FakeXhr,
    uploadUrl: () => "u",
    token: () => "t",
    onChange: (next) => (list = next),
  });
  uploads.add([file("a"), file("b"), file("c")]);
  uploads.cancel(list[0].key);
  assert.equal(sent[0].aborted, true);
  sent[1].answer(415, { error: { code: "unsupported_type" } });
  sent[2].listeners.error();
  assert.deepEqual(list.map((u) => [u.name, u.state, u.error]), [
    ["b", "failed", "unsupported_type"],
    ["c", "failed", "unreachable"],
  ]);
  uploads.retry();
  assert.equal(sent.length, 4, "only the cut upload goes again");
  assert.equal(sent[3].body.get("file").name, "c");
  assert.equal(list[1].state, "uploading");
});
