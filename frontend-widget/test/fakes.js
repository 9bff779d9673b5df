// Stand-ins for what the browser gives the widget: a clock, a WebSocket, localStorage, fetch.

export class FakeClock {
  constructor() {
    this.now = 0;
    this.nextId = 1;
    this.tasks = new Map();
  }

  get timers() {
    return {
      setTimeout: (fn, ms = 0) => this.#add(fn, ms, null),
      clearTimeout: (id) => this.tasks.delete(id),
      setInterval: (fn, ms) => this.#add(fn, ms, ms),
      clearInterval: (id) => this.tasks.delete(id),
    };
  }

  #add(fn, ms, every) {
    const id = this.nextId++;
    this.tasks.set(id, { fn, at: this.now + Math.max(0, ms), every });
    return id;
  }

  // The delay of the one pending one-shot timer (for asserting a scheduled reconnect).
  pendingDelays() {
    return [...this.tasks.values()].filter((t) => t.every === null).map((t) => t.at - this.now);
  }

  async tick(ms) {
    const end = this.now + ms;
    for (;;) {
      let nextId = null;
      let next = null;
      for (const [id, task] of this.tasks) {
        if (task.at <= end && (!next || task.at < next.at)) [nextId, next] = [id, task];
      }
      if (!next) break;
      this.now = next.at;
      if (next.every === null) this.tasks.delete(nextId);
      else next.at += next.every;
      next.fn();
      await flush();
    }
    this.now = end;
    await flush();
  }
}

export const flush = () => new Promise((resolve) => setImmediate(resolve));

export function fakeWebSocketClass() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.readyState = 0;
      this.closedWith = null;
      sockets.push(this);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error("not open");
      this.sent.push(JSON.parse(data));
    }
    close(code, reason) {
      this.closedWith = { code, reason };
      this.readyState = 3;
    }
    // Test side: what the server does.
    accept() {
      this.readyState = 1;
      this.onopen?.({});
    }
    receive(frame) {
      this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
    }
    drop(code, reason = "") {
      this.readyState = 3;
      this.onclose?.({ code, reason });
    }
    sentOfType(type) {
      return this.sent.filter((f) => f.type === type);
    }
  }
  return { FakeWebSocket, sockets };
}

export class MemoryStorage {
  constructor(entries = {}) {
    this.map = new Map(Object.entries(entries));
  }
  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  setItem(key, value) {
    this.map.set(key, String(value));
  }
  removeItem(key) {
    this.map.delete(key);
  }
  get length() {
    return this.map.size;
  }
  key(index) {
    return [...this.map.keys()][index] ?? null;
  }
}

export function jsonResponse(status, body) {
  return { ok: status >= 200 && status < 300, status, json: async () => body };
}

// Just enough of a DOM document for markdown.js's render(): elements, text nodes, fragments.
class FakeNode {
  constructor(nodeType, nodeName) {
    this.nodeType = nodeType;
    this.nodeName = nodeName;
    this.childNodes = [];
    this.attributes = new Map();
  }

  append(...nodes) {
    for (const node of nodes) {
      if (node.nodeType === 11) this.childNodes.push(...node.childNodes.splice(0));
      else this.childNodes.push(typeof node === "string" ? new FakeText(node) : node);
    }
  }

  set textContent(text) {
    this.childNodes = [new FakeText(String(text))];
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }

  getAttribute(name) {
    return this.attributes.get(name) ?? null;
  }
}

class FakeText {
  constructor(text) {
    this.nodeType = 3;
    this.nodeName = "#text";
    this.nodeValue = text;
    this.childNodes = [];
  }
}

export const fakeDocument = {
  createElement: (tag) => new FakeNode(1, tag.toUpperCase()),
  createTextNode: (text) => new FakeText(text),
  createDocumentFragment: () => new FakeNode(11, "#document-fragment"),
};
