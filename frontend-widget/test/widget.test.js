import assert from "node:assert/strict";
import { test } from "node:test";

import { installApi } from "../src/api.js";
import { createWidget } from "../src/widget.js";
import { FakeClock, MemoryStorage, fakeWebSocketClass, flush, jsonResponse } from "./fakes.js";
import { STRINGS } from "../src/locales.js";

const SITE = { name: "Acme", color: "#14532d", greeting: "Hi", position: "right", locale: "" };

function session(overrides = {}) {
  return {
    visitor_id: "v1",
    token: "tok-1",
    expires_at: "2026-11-25T00:00:00Z",
    conversation: "conv1",
    ws_url: "ws://parley.test/ws/chat/conv1/?site_key=pk_test",
    site: SITE,
    ...overrides,
  };
}

function fakeConsole() {
  const lines = { error: [], warn: [] };
  return {
    lines,
    error: (...args) => lines.error.push(args.join(" ")),
    warn: (...args) => lines.warn.push(args.join(" ")),
  };
}

function fakeView() {
  const view = { states: [], announced: [], flashed: [], isOpen: false, destroyed: false };
  view.update = (state) => view.states.push(state);
  view.announce = (text) => view.announced.push(text);
  view.flash = (text) => view.flashed.push(text);
  view.askedEmail = 0;
  view.askTranscriptEmail = () => view.askedEmail++;
  view.transcriptAsked = () => {
    view.askedEmail = 0;
  };
  view.open = () => {
    view.isOpen = true;
    view.handlers.onOpen();
  };
  view.close = () => {
    view.isOpen = false;
    view.handlers.onClose();
  };
  view.destroy = () => {
    view.destroyed = true;
  };
  return view;
}

function setup({
  storage = new MemoryStorage(),
  answers = [jsonResponse(200, session())],
  site = jsonResponse(200, { ...SITE, consent_required: false, consent_text: "" }),
  config = {},
  env = {},
} = {}) {
  const clock = new FakeClock();
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const requests = [];
  const siteRequests = [];
  const views = [];
  const console = fakeConsole();
  const widget = createWidget({
    config: { siteKey: "pk_test", baseUrl: "http://parley.test", room: null, locale: null, ...config },
    env: {
      fetch: async (url, init) => {
        if (url.includes("/api/widget/v1/site?")) {
          siteRequests.push({ url, init });
          if (site instanceof Error) throw site;
          return site;
        }
        requests.push({ url, body: JSON.parse(init.body) });
        const answer = answers.length > 1 ? answers.shift() : answers[0];
        if (answer instanceof Error) throw answer;
        return answer;
      },
      WebSocket: FakeWebSocket,
      storage,
      timers: clock.timers,
      random: () => 0.5,
      now: () => 1764000000000 + clock.now,
      console,
      origin: "https://shop.example",
      languages: ["fr-FR"],
      loadStrings: async (locale) => STRINGS[locale] ?? null,
      hidden: () => false,
      createView: (options) => {
        const view = fakeView();
        Object.assign(view, options);
        views.push(view);
        return view;
      },
      ...env,
    },
  });
  const last = () => sockets[sockets.length - 1];
  const ready = (messages = [], extra = {}) => {
    last().accept();
    last().receive({ type: "ready", room: "conv1", visitor_id: "v1", messages, has_more: false, ...extra });
  };
  const view = () => views[views.length - 1];
  return { widget, clock, sockets, requests, siteRequests, views, view, console, storage, last, ready };
}

const agent = (id, text) => ({
  type: "message",
  id,
  text,
  ts: "2026-11-24T10:00:00Z",
  client_id: null,
  author: { kind: "agent", id: "a1", name: "Anna" },
});

test("the pre-load queue runs in order before the session is requested", async () => {
  const ctx = setup();
  const calls = [];
  const window = {
    Parley: Object.assign(() => {}, {
      q: [
        ["on", "ready", (info) => calls.push(["ready", info.room])],
        ["identify", { id: 42, name: "Ada", hash: "abc" }],
        ["open"],
        ["bogus"],
      ],
    }),
  };
  assert.equal(installApi(window, ctx.widget, ctx.console), true);
  assert.equal(window.Parley.loaded, true);
  assert.match(ctx.console.lines.warn[0], /unknown command "bogus"/);
  await ctx.widget.start();
  assert.deepEqual(ctx.requests[0].body, {
    site_key: "pk_test",
    user: { id: "42", name: "Ada", hash: "abc" },
  });
  assert.deepEqual(calls, [["ready", "conv1"]]);
  assert.equal(ctx.view().isOpen, true, "the queued open applied once the panel existed");
  // Later calls go straight through; a second copy of the bundle does not take over.
  window.Parley("close");
  assert.equal(ctx.view().isOpen, false);
  assert.equal(installApi(window, ctx.widget, ctx.console), false);
});

test("a throwing listener does not break the widget", async () => {
  const ctx = setup();
  ctx.widget.on("message", () => {
    throw new Error("page bug");
  });
  await ctx.widget.start();
  ctx.ready();
  ctx.last().receive(agent(1, "hello"));
  assert.match(ctx.console.lines.error[0], /callback threw/);
  assert.equal(ctx.widget.state.messages.length, 1);
});

for (const [status, code, pattern] of [
  [404, "unknown_site_key", /unknown site key "pk_test"/],
  [403, "origin_not_allowed", /origin https:\/\/shop\.example is not allowed for site key "pk_test"/],
  [401, "identity_required", /requires a verified identity/],
]) {
  test(`session ${status} ${code}: no widget and exactly one console error`, async () => {
    const ctx = setup({
      answers: [jsonResponse(status, { error: { code, message: "refused" } })],
    });
    const errors = [];
    ctx.widget.on("error", (e) => errors.push(e.code));
    await ctx.widget.start();
    assert.equal(ctx.views.length, 0, "no widget");
    assert.equal(ctx.sockets.length, 0, "no socket");
    assert.equal(ctx.console.lines.error.length, 1);
    assert.match(ctx.console.lines.error[0], pattern);
    assert.deepEqual(errors, [code]);
  });
}

test("a 404 without Parley's JSON (no such endpoint) is still an unknown key", async () => {
  const ctx = setup({ answers: [{ ok: false, status: 404, json: async () => Promise.reject(new Error("html")) }] });
  await ctx.widget.start();
  assert.match(ctx.console.lines.error[0], /unknown site key/);
});

test("an unreachable Parley (or a refused CORS check) is named once", async () => {
  const ctx = setup({ answers: [new TypeError("Failed to fetch")] });
  await ctx.widget.start();
  assert.equal(ctx.console.lines.error.length, 1);
  assert.match(ctx.console.lines.error[0], /could not reach http:\/\/parley\.test.*not allowed/);
});

test("a passing outage at page load is retried; a lasting one is reported once", async () => {
  const flaky = setup({
    answers: [
      jsonResponse(503, { error: { code: "unavailable", message: "deploying" } }),
      jsonResponse(429, { error: { code: "rate_limited", message: "slow" }, retry_after: 2 }),
      jsonResponse(200, session()),
    ],
  });
  const starting = flaky.widget.start();
  await flush();
  await flaky.clock.tick(500); // backoff from 1 s, full jitter (random is 0.5 here)
  assert.equal(flaky.requests.length, 2);
  await flaky.clock.tick(1999);
  assert.equal(flaky.requests.length, 2, "retry_after is 2 s");
  await flaky.clock.tick(1);
  await starting;
  assert.equal(flaky.requests.length, 3);
  assert.equal(flaky.views.length, 1);
  assert.equal(flaky.console.lines.error.length, 0);

  const down = setup({ answers: [jsonResponse(502, null)] });
  const failing = down.widget.start();
  for (let i = 0; i < 5; i++) {
    await flush();
    await down.clock.tick(30000);
  }
  await failing;
  assert.equal(down.requests.length, 5);
  assert.equal(down.views.length, 0);
  assert.equal(down.console.lines.error.length, 1);
  assert.match(down.console.lines.error[0], /refused: server_error/);
});

test("the session is kept per site key: a reload sends the same token and shows the conversation", async () => {
  const storage = new MemoryStorage();
  const first = setup({ storage });
  await first.widget.start();
  assert.equal(first.requests[0].body.visitor_token, undefined);
  first.ready();
  first.last().receive(agent(5, "earlier answer"));

  const reload = setup({ storage });
  await reload.widget.start();
  assert.equal(reload.requests[0].body.visitor_token, "tok-1");
  reload.last().accept();
  assert.deepEqual(reload.last().sent[0], { type: "auth", token: "tok-1" }, "a fresh page asks for the latest");
  reload.ready([{ id: 5, text: "earlier answer", author: { kind: "agent", id: "a1", name: "Anna" } }]);
  assert.deepEqual(
    reload.widget.state.messages.map((m) => m.text),
    ["earlier answer"],
  );
});

test("an expired stored token is dropped for a fresh session", async () => {
  const storage = new MemoryStorage({ "parley:pk_test:session": JSON.stringify({ token: "old" }) });
  const ctx = setup({
    storage,
    answers: [jsonResponse(401, { error: { code: "invalid_token", message: "expired" } }), jsonResponse(200, session())],
  });
  await ctx.widget.start();
  assert.deepEqual(
    ctx.requests.map((r) => r.body.visitor_token),
    ["old", undefined],
  );
  assert.equal(ctx.console.lines.error.length, 0);
  assert.equal(ctx.views.length, 1);
});

test("a message typed while offline is sent once, with its client_id, after reconnecting", async () => {
  const storage = new MemoryStorage();
  const ctx = setup({ storage });
  await ctx.widget.start();
  ctx.ready([{ id: 3, text: "hi", author: { kind: "agent", id: "a1", name: "Anna" } }]);
  ctx.last().drop(1012, "restart");
  assert.equal(ctx.view().handlers.onSend("  sent while offline  "), true);
  const pending = ctx.widget.state.messages.at(-1);
  assert.equal(pending.pending, true);
  assert.equal(pending.text, "sent while offline");
  const [{ client_id }] = JSON.parse(storage.getItem("parley:pk_test:outbox:conv1"));

  await ctx.clock.tick(0); // 1012 after a good session: reconnect at once
  ctx.last().accept();
  assert.deepEqual(ctx.last().sent[0], { type: "auth", token: "tok-1", since: 3 });
  ctx.last().receive({ type: "ready", room: "conv1", visitor_id: "v1", messages: [], has_more: false });
  assert.deepEqual(ctx.last().sentOfType("message"), [
    { type: "message", client_id, text: "sent while offline" },
  ]);
  ctx.last().receive({ type: "ack", client_id, id: 4, ts: "2026-11-24T10:01:00Z" });
  ctx.last().receive({
    type: "message",
    id: 4,
    client_id,
    text: "sent while offline",
    ts: "2026-11-24T10:01:00Z",
    author: { kind: "visitor", id: "v1", name: "" },
  });
  const mine = ctx.widget.state.messages.filter((m) => m.text === "sent while offline");
  assert.equal(mine.length, 1, "shown exactly once");
  assert.equal(mine[0].pending, false);
  assert.equal(storage.getItem("parley:pk_test:outbox:conv1"), null, "acknowledged: forgotten");
});

test("a message whose ack was lost is recognised in the resumed messages and not resent", async () => {
  const ctx = setup();
  await ctx.widget.start();
  ctx.ready();
  ctx.view().handlers.onSend("did it arrive?");
  const [{ client_id }] = ctx.last().sentOfType("message");
  ctx.last().drop(1006, "");
  await ctx.clock.tick(1000);
  ctx.ready([{ id: 9, client_id, text: "did it arrive?", author: { kind: "visitor", id: "v1" } }]);
  assert.equal(ctx.last().sentOfType("message").length, 0);
  assert.equal(ctx.widget.state.messages.length, 1);
});

test("a resume that repeats messages shows each once, in id order, and announces only the new", async () => {
  const ctx = setup();
  const received = [];
  ctx.widget.on("message", (m) => received.push(m.text));
  await ctx.widget.start();
  ctx.ready([agent(3, "three")]);
  ctx.last().receive(agent(5, "five")); // 4 is still on its way from another worker
  ctx.last().drop(1012, "restart");
  await ctx.clock.tick(0);
  ctx.last().accept();
  assert.deepEqual(ctx.last().sent[0], { type: "auth", token: "tok-1", since: 5 });
  // The server repeats the seconds before `since`: 3 and 5 again, and 4, missed.
  ctx.last().receive({
    type: "ready",
    room: "conv1",
    visitor_id: "v1",
    messages: [agent(3, "three"), agent(4, "four"), agent(5, "five")],
    has_more: false,
  });
  assert.deepEqual(
    ctx.widget.state.messages.map((m) => m.text),
    ["three", "four", "five"],
  );
  assert.deepEqual(received, ["five", "four"]);
});

test("a reload keeps a typed but unacknowledged message and resends it", async () => {
  const storage = new MemoryStorage();
  const first = setup({ storage });
  await first.widget.start();
  first.ready();
  first.last().drop(1006, ""); // the network goes before the visitor presses Enter
  first.view().handlers.onSend("typed before the reload");

  const reload = setup({ storage });
  await reload.widget.start();
  assert.equal(reload.widget.state.messages.at(-1).pending, true);
  reload.ready();
  const [frame] = reload.last().sentOfType("message");
  assert.equal(frame.text, "typed before the reload");
  const [{ client_id }] = JSON.parse(storage.getItem("parley:pk_test:outbox:conv1"));
  assert.equal(frame.client_id, client_id);
});

test("a formatted message: the page's event gets it as typed, a screen reader without markers", async () => {
  const ctx = setup();
  const received = [];
  ctx.widget.on("message", (m) => received.push(m.text));
  await ctx.widget.start();
  ctx.ready();
  ctx.last().receive(agent(1, "It ships **today**: `1Z999`"));
  assert.deepEqual(received, ["It ships **today**: `1Z999`"]);
  assert.equal(ctx.widget.state.messages.at(-1).text, "It ships **today**: `1Z999`");
  assert.match(ctx.view().announced.at(-1), /It ships today: 1Z999$/);
});

test("agents' messages: unread badge while closed, read receipt when opened, typing and seen", async () => {
  const ctx = setup();
  const received = [];
  ctx.widget.on("message", (m) => received.push(m.text));
  await ctx.widget.start();
  ctx.ready();
  ctx.last().receive({ type: "typing", author: { kind: "agent", id: "a1", name: "Anna" }, state: true });
  assert.equal(ctx.widget.state.typing, "Anna");
  ctx.last().receive(agent(1, "<img src=x onerror=alert(1)>"));
  assert.equal(ctx.widget.state.typing, null, "a message ends the typing indicator");
  assert.deepEqual(received, ["<img src=x onerror=alert(1)>"]);
  assert.equal(ctx.widget.state.unread, 1);
  assert.match(ctx.view().announced[0], /Anna/);
  assert.equal(ctx.view().locale, "fr", "the browser's language when the site gives none");

  ctx.widget.open();
  assert.equal(ctx.widget.state.unread, 0);
  assert.deepEqual(ctx.last().sentOfType("read"), [{ type: "read", up_to: 1 }]);

  ctx.view().handlers.onSend("thanks");
  const [{ client_id }] = ctx.last().sentOfType("message");
  ctx.last().receive({ type: "ack", client_id, id: 2, ts: null });
  ctx.last().receive({ type: "read", author: { kind: "agent", id: "a1", name: "Anna" }, up_to: 2 });
  const mine = ctx.widget.state.messages.find((m) => m.mine);
  assert.equal(mine.seen, true);
});

test("identify with another user starts a new session without the old user's token", async () => {
  const storage = new MemoryStorage();
  const ctx = setup({
    storage,
    answers: [
      jsonResponse(200, session()),
      jsonResponse(200, session({ token: "tok-u1", conversation: "conv2", visitor_id: "v2" })),
      jsonResponse(200, session({ token: "tok-u2", conversation: "conv3", visitor_id: "v3" })),
    ],
  });
  await ctx.widget.start();
  ctx.ready();
  ctx.widget.identify({ id: "u1", hash: "h1" });
  await flush();
  assert.deepEqual(ctx.requests[1].body, {
    site_key: "pk_test",
    visitor_token: "tok-1",
    user: { id: "u1", hash: "h1" },
  });
  assert.equal(ctx.sockets[0].closedWith.code, 1000);
  assert.match(ctx.last().url, /\/ws\/chat\/conv2\//);
  ctx.widget.identify({ id: "u1", hash: "h1" });
  await flush();
  assert.equal(ctx.requests.length, 2, "the same identity again changes nothing");
  ctx.widget.identify({ id: "u2", hash: "h2" });
  await flush();
  assert.equal(ctx.requests[2].body.visitor_token, undefined, "u1's token never goes with u2");
});

test("public-room mode joins the named room", async () => {
  const ctx = setup({ config: { room: "lobby" } });
  await ctx.widget.start();
  assert.match(ctx.last().url, /^ws:\/\/parley\.test\/ws\/chat\/lobby\/\?site_key=pk_test$/);
});

test("4403 stays closed and says why once", async () => {
  const ctx = setup({ config: { room: "vip" } });
  await ctx.widget.start();
  ctx.last().accept();
  ctx.last().drop(4403, "");
  await ctx.clock.tick(60000);
  assert.equal(ctx.sockets.length, 1);
  assert.equal(ctx.widget.state.status, "closed");
  assert.equal(ctx.console.lines.error.length, 1);
  assert.match(ctx.console.lines.error[0], /may not join room "vip"/);
});

test("shutdown closes the socket and forgets the visitor", async () => {
  const storage = new MemoryStorage({
    "parley:pk_test:read:conv0": "7", // another of the visitor's conversations, read earlier
    "parley:pk_test:rating:conv0": '"given"',
    "parley:pk_test:consent": '{"accepted_at":"2026-11-24T10:00:00Z"}',
    "parley:pk_other:session": '{"token":"other site"}',
  });
  const ctx = setup({ storage });
  await ctx.widget.start();
  ctx.ready();
  ctx.widget.shutdown();
  assert.equal(ctx.sockets[0].closedWith.code, 1000);
  assert.equal(ctx.view().destroyed, true);
  assert.deepEqual([...storage.map.keys()].sort(), ["parley:pk_other:session", "parley:pk_test:consent"]);
  await ctx.clock.tick(60000);
  assert.equal(ctx.sockets.length, 1);
});

test("data-open opens the panel once the widget is ready, without taking focus", async () => {
  const ctx = setup({ config: { open: true } });
  await ctx.widget.start();
  assert.equal(ctx.view().isOpen, true);
});

test("earlier messages are asked for before the oldest one shown", async () => {
  const ctx = setup();
  await ctx.widget.start();
  ctx.ready([{ id: 40, text: "latest", author: { kind: "agent", id: "a1", name: "Anna" } }], { has_more: true });
  assert.equal(ctx.widget.state.hasMore, true);
  ctx.view().handlers.onEarlier();
  assert.deepEqual(ctx.last().sentOfType("history"), [{ type: "history", before: 40, limit: 50 }]);
  ctx.last().receive({
    type: "history",
    messages: [{ id: 12, text: "older", author: { kind: "agent", id: "a1", name: "Anna" } }],
    has_more: false,
  });
  assert.deepEqual(
    ctx.widget.state.messages.map((m) => m.text),
    ["older", "latest"],
  );
  assert.equal(ctx.widget.state.hasMore, false);
});

test("typing: true at most every 3 s while typing, false after 4 s without a key", async () => {
  const ctx = setup();
  await ctx.widget.start();
  ctx.ready();
  const { onInput } = ctx.view().handlers;
  onInput();
  await ctx.clock.tick(1000);
  onInput();
  await ctx.clock.tick(2500);
  onInput();
  assert.deepEqual(
    ctx.last().sentOfType("typing").map((f) => f.state),
    [true, true],
  );
  await ctx.clock.tick(4000);
  assert.deepEqual(
    ctx.last().sentOfType("typing").map((f) => f.state),
    [true, true, false],
  );
});

test("rate_limited: the unacknowledged messages go again after retry_after", async () => {
  const ctx = setup();
  await ctx.widget.start();
  ctx.ready();
  ctx.view().handlers.onSend("one");
  ctx.last().receive({ type: "error", code: "rate_limited", message: "slow down", retry_after: 3 });
  assert.equal(ctx.view().flashed.length, 1);
  await ctx.clock.tick(2999);
  assert.equal(ctx.last().sentOfType("message").length, 1);
  await ctx.clock.tick(1);
  const sent = ctx.last().sentOfType("message");
  assert.equal(sent.length, 2);
  assert.equal(sent[0].client_id, sent[1].client_id);
});

test("a message budget's long wait and a used-up month are told as such", async () => {
  const ctx = setup({ config: { locale: "en" } });
  await ctx.widget.start();
  ctx.ready();
  ctx.view().handlers.onSend("one");
  ctx.last().receive({ type: "error", code: "rate_limited", message: "budget", retry_after: 1800 });
  ctx.last().receive({ type: "error", code: "plan_limit", message: "month" });
  assert.deepEqual(ctx.view().flashed, [
    "You have sent many messages. Please wait a while before sending more.",
    "The team cannot receive messages right now. Please try again later.",
  ]);
});

test("a message too long for the server is refused before sending", async () => {
  const ctx = setup();
  await ctx.widget.start();
  ctx.ready();
  assert.equal(ctx.view().handlers.onSend("x".repeat(4001)), false);
  assert.equal(ctx.view().handlers.onSend("   "), false);
  assert.equal(ctx.last().sentOfType("message").length, 0);
  assert.deepEqual(ctx.view().flashed, ["Ce message est trop long."]);
});

test("the session reports the page and browser; each navigation after ready is one context frame", async () => {
  const page = { page_url: "https://shop.example/", page_title: "Home" };
  let navigate = null;
  const ctx = setup({
    env: {
      context: () => ({ ...page, referrer: "https://search.example/", locale: "de-AT", time_zone: "Europe/Vienna" }),
      place: () => ({ ...page }),
      onNavigate: (listener) => (navigate = listener),
    },
  });
  await ctx.widget.start();
  assert.deepEqual(ctx.requests[0].body.context, {
    page_url: "https://shop.example/",
    page_title: "Home",
    referrer: "https://search.example/",
    locale: "de-AT",
    time_zone: "Europe/Vienna",
  });
  ctx.ready();
  assert.deepEqual(ctx.last().sentOfType("context"), [], "the session told the first page");
  page.page_url = "https://shop.example/#/cart";
  navigate();
  page.page_title = "Cart";
  navigate();
  await ctx.clock.tick(600);
  assert.deepEqual(ctx.last().sentOfType("context"), [
    { type: "context", page_url: "https://shop.example/#/cart", page_title: "Cart" },
  ]);
  navigate();
  await ctx.clock.tick(600);
  assert.equal(ctx.last().sentOfType("context").length, 1, "the same page is not told again");
});

test("Seen comes back after a reload from ready's agent_read_up_to", async () => {
  const ctx = setup();
  await ctx.widget.start();
  const mine = { ...agent(5, "my question"), author: { kind: "visitor", id: "v1", name: "" } };
  ctx.ready([mine, agent(6, "an answer")], { agent_read_up_to: 5, visitor_read_up_to: 6 });
  const shown = ctx.widget.state.messages.find((m) => m.mine);
  assert.equal(shown.seen, true);
});

test("with the typing preview the draft goes at most every 500 ms and clears when emptied", async () => {
  const ctx = setup({ answers: [jsonResponse(200, session({ site: { ...SITE, typing_preview: true } }))] });
  await ctx.widget.start();
  ctx.ready();
  let text = "";
  const { onInput } = ctx.view().handlers;
  const type = (value) => {
    text = value;
    onInput(() => text);
  };
  type("H");
  await ctx.clock.tick(0);
  type("He");
  type("Hel");
  await ctx.clock.tick(200);
  type("Hell");
  await ctx.clock.tick(400);
  assert.deepEqual(ctx.last().sentOfType("typing"), [
    { type: "typing", state: true, draft: "H" },
    { type: "typing", state: true, draft: "Hell" },
  ]);
  type("x".repeat(700));
  await ctx.clock.tick(600);
  assert.equal(ctx.last().sentOfType("typing").at(-1).draft.length, 500);
  type("");
  await ctx.clock.tick(600);
  assert.deepEqual(ctx.last().sentOfType("typing").at(-1), { type: "typing", state: false });
});

test("without the typing preview no draft is ever sent", async () => {
  const ctx = setup();
  await ctx.widget.start();
  ctx.ready();
  ctx.view().handlers.onInput(() => "secret words");
  await ctx.clock.tick(1000);
  assert.deepEqual(ctx.last().sentOfType("typing"), [{ type: "typing", state: true }]);
});

test("identify's custom attributes go with the session, scalars only", async () => {
  const ctx = setup();
  ctx.widget.identify({ id: "u1", attributes: { plan: "pro", seats: 3, trial: false, nested: { a: 1 } } });
  await ctx.widget.start();
  assert.deepEqual(ctx.requests[0].body.user.attributes, { plan: "pro", seats: 3, trial: false });
});

test("the browser going offline shows 'lost' at once and keeps messages pending; online delivers them once", async () => {
  const ctx = setup();
  await ctx.widget.start();
  ctx.ready();
  ctx.widget.networkLost();
  assert.equal(ctx.widget.state.status, "lost");
  assert.equal(ctx.view().states.at(-1).status, "lost");
  assert.match(ctx.view().announced.at(-1), /Connexion perdue/);
  ctx.view().handlers.onSend("written offline");
  assert.equal(ctx.widget.state.messages.at(-1).pending, true);
  assert.equal(ctx.sockets.length, 1, "no attempt while the network is gone");

  ctx.widget.networkBack();
  assert.equal(ctx.sockets.length, 2, "a new socket at once");
  ctx.last().accept();
  ctx.last().receive({ type: "ready", room: "conv1", visitor_id: "v1", messages: [], has_more: false });
  const [frame] = ctx.last().sentOfType("message");
  assert.equal(frame.text, "written offline");
  assert.equal(ctx.widget.state.status, "online");
  assert.match(ctx.view().announced.at(-1), /De nouveau connecté/);
});

const consentSite = (text = "We keep chats 30 days.") =>
  jsonResponse(200, { ...SITE, consent_required: true, consent_text: text });

class SpyStorage extends MemoryStorage {
  constructor(entries) {
    super(entries);
    this.writes = [];
  }
  setItem(key, value) {
    this.writes.push(["set", key]);
    super.setItem(key, value);
  }
  removeItem(key) {
    this.writes.push(["remove", key]);
    super.removeItem(key);
  }
}

test("a site that asks consent: before it, no session, no socket, nothing written", async () => {
  const storage = new SpyStorage();
  const ctx = setup({ storage, site: consentSite(), config: { open: true } });
  await ctx.widget.start();
  await ctx.clock.tick(60000);
  assert.equal(ctx.siteRequests.length, 1);
  assert.equal(ctx.siteRequests[0].init.credentials, "omit");
  assert.equal(ctx.siteRequests[0].init.method, undefined, "a plain GET");
  assert.deepEqual(ctx.requests, [], "no session asked for");
  assert.equal(ctx.sockets.length, 0, "no socket");
  assert.equal(ctx.widget.state.phase, "consent");
  assert.deepEqual(ctx.view().consent, { text: "We keep chats 30 days." });
  assert.equal(ctx.view().isOpen, true);
  ctx.view().close();
  ctx.view().open();
  assert.deepEqual(storage.writes, [], "opening and closing write nothing either");

  ctx.view().handlers.onConsent(true);
  await flush();
  assert.deepEqual(storage.writes[0], ["set", "parley:pk_test:consent"]);
  assert.equal(ctx.requests.length, 1);
  assert.equal(ctx.requests[0].body.consent, true);
  assert.equal(ctx.views.length, 2, "the chat replaces the consent step");
  assert.equal(ctx.views[0].destroyed, true);
  assert.equal(ctx.view().consent, undefined);
  assert.equal(ctx.view().isOpen, true);
  assert.equal(ctx.sockets.length, 1);
  ctx.ready();
  assert.equal(ctx.widget.state.status, "online");
});

test("declining the consent leaves nothing behind and the launcher asks again", async () => {
  const storage = new SpyStorage();
  const ctx = setup({ storage, site: consentSite(""), config: { open: true } });
  await ctx.widget.start();
  assert.match(ctx.view().consent.text, /widget garde un identifiant/, "the widget's own words");
  ctx.view().handlers.onConsent(false);
  assert.equal(ctx.view().isOpen, false);
  assert.match(ctx.view().announced.at(-1), /rien n’a été enregistré/);
  await ctx.clock.tick(60000);
  assert.deepEqual(storage.writes, []);
  assert.deepEqual(ctx.requests, []);
  assert.equal(ctx.sockets.length, 0);
  ctx.view().open();
  assert.equal(ctx.widget.state.phase, "consent");
});

test("a visitor who consented before goes straight to a session with consent", async () => {
  const storage = new MemoryStorage({ "parley:pk_test:consent": '{"accepted_at":"2026-12-01T00:00:00Z"}' });
  const ctx = setup({ storage, site: consentSite() });
  await ctx.widget.start();
  assert.equal(ctx.siteRequests.length, 0);
  assert.equal(ctx.requests[0].body.consent, true);
  assert.equal(ctx.sockets.length, 1);
});

test("a site without the step costs its new visitors one request and then chats as before", async () => {
  const ctx = setup();
  await ctx.widget.start();
  assert.equal(ctx.siteRequests.length, 1);
  assert.equal(ctx.requests.length, 1);
  assert.equal(ctx.requests[0].body.consent, undefined);
  ctx.ready();
  assert.equal(ctx.widget.state.phase, "running");
});

test("a site that began asking consent after a visitor's last visit asks it then", async () => {
  const storage = new MemoryStorage({ "parley:pk_test:session": '{"token":"tok-old"}' });
  const refused = jsonResponse(403, { error: { code: "consent_required", message: "" } });
  const ctx = setup({ storage, site: consentSite(), answers: [refused, jsonResponse(200, session())] });
  await ctx.widget.start();
  assert.equal(ctx.requests.length, 1);
  assert.equal(ctx.widget.state.phase, "consent");
  assert.deepEqual(ctx.console.lines.error, []);
  ctx.view().handlers.onConsent(true);
  await flush();
  assert.equal(ctx.requests.at(-1).body.consent, true);
  assert.equal(ctx.sockets.length, 1);
});

test("an agent closing the conversation asks for a rating; it is sent once and thanked", async () => {
  const ctx = setup();
  await ctx.widget.start();
  ctx.ready();
  assert.equal(ctx.widget.state.rating, null);
  ctx.last().receive({ type: "closed" });
  assert.equal(ctx.widget.state.rating, "asking");
  assert.equal(ctx.view().states.at(-1).rating, "asking");
  assert.match(ctx.view().announced.at(-1), /Comment s’est passée/);

  assert.equal(await ctx.view().handlers.onRate(0, ""), false, "1..5 only");
  assert.equal(await ctx.view().handlers.onRate(4, "x".repeat(1001)), false, "comment too long");
  const sent = ctx.view().handlers.onRate(4, "  Très bien  ");
  assert.equal(ctx.widget.state.rating, "sending");
  assert.equal(await sent, true);
  const request = ctx.requests.at(-1);
  assert.equal(request.url, "http://parley.test/api/widget/v1/rating");
  assert.deepEqual(request.body, { site_key: "pk_test", visitor_token: "tok-1", score: 4, comment: "Très bien" });
  assert.equal(ctx.widget.state.rating, "done");
  assert.match(ctx.view().announced.at(-1), /Merci/);
  assert.equal(await ctx.view().handlers.onRate(5, ""), false, "once");
});

test("a rating refused for a reopened conversation is dropped; a failed one may be tried again", async () => {
  const reopened = jsonResponse(409, { error: { code: "conflict", message: "open" } });
  const down = jsonResponse(503, { error: { code: "unavailable", message: "" } });
  const ctx = setup({ answers: [jsonResponse(200, session()), down, reopened] });
  await ctx.widget.start();
  ctx.ready();
  ctx.last().receive({ type: "closed" });
  assert.equal(await ctx.view().handlers.onRate(3, ""), false);
  assert.equal(ctx.widget.state.rating, "asking");
  assert.match(ctx.view().flashed.at(-1), /n’a pas pu être envoyée/);
  assert.equal(await ctx.view().handlers.onRate(3, ""), false);
  assert.equal(ctx.widget.state.rating, null);
});

test("a message after the close, or 'not now', puts the question away", async () => {
  const ctx = setup();
  await ctx.widget.start();
  ctx.ready();
  ctx.last().receive({ type: "closed" });
  ctx.last().receive(agent(7, "One more thing"));
  assert.equal(ctx.widget.state.rating, null);
  ctx.last().receive({ type: "closed" });
  ctx.view().handlers.onRateLater();
  assert.equal(ctx.widget.state.rating, null);
});

test("a page loaded without a network waits for it, then starts, with no error", async () => {
  let online = false;
  const ctx = setup({ site: new TypeError("Failed to fetch"), env: { online: () => online } });
  await ctx.widget.start();
  assert.equal(ctx.widget.state.phase, "idle");
  assert.deepEqual(ctx.console.lines.error, []);
  online = true;
  ctx.siteRequests.length = 0;
  await ctx.widget.networkBack();
  assert.equal(ctx.siteRequests.length, 1, "asked again once the network is back");
});

test("a conversation closed while the page was away asks once; an answer is remembered", async () => {
  const storage = new MemoryStorage();
  const ctx = setup({ storage });
  await ctx.widget.start();
  ctx.ready([], { status: "closed" });
  assert.equal(ctx.widget.state.rating, "asking");
  ctx.view().handlers.onRateLater();
  assert.equal(storage.getItem("parley:pk_test:rating:conv1"), '"later"');

  const again = setup({ storage });
  await again.widget.start();
  again.ready([], { status: "closed" });
  assert.equal(again.widget.state.rating, null, "not asked again on the next page");
  again.last().receive({ type: "closed" }); // closed once more, after a reopen
  assert.equal(again.widget.state.rating, "asking");
  assert.equal(storage.getItem("parley:pk_test:rating:conv1"), null);
});

test("a public room is never asked for a rating", async () => {
  const ctx = setup({ config: { room: "lobby" } });
  await ctx.widget.start();
  ctx.last().accept();
  ctx.last().receive({ type: "ready", room: "lobby", visitor_id: "v1", messages: [], has_more: false, status: "closed" });
  ctx.last().receive({ type: "closed" });
  assert.equal(ctx.widget.state.rating, null);
});

test("the status line follows ready, presence and status frames, and asks again at the change", async () => {
  const site = { ...SITE, status: { agents: "offline", open: true, changes_at: null }, out_of_hours: "offline_form" };
  const ctx = setup({ answers: [jsonResponse(200, session({ site }))] });
  await ctx.widget.start();
  assert.equal(ctx.view().states.at(-1).line.state, "away");
  const closesAt = new Date(1764000000000 + 5000).toISOString();
  ctx.ready([], { availability: { agents: "online", reply_minutes: 3, open: true, changes_at: closesAt } });
  assert.equal(ctx.view().states.at(-1).line.text, "En ligne · nous répondons d’habitude en 3 min");
  ctx.last().receive({ type: "presence", agents: "away", reply_minutes: 3 });
  assert.equal(ctx.view().states.at(-1).line.state, "away");
  await ctx.clock.tick(6100);
  assert.deepEqual(ctx.last().sent.at(-1), { type: "status" });
  ctx.last().receive({ type: "status", status: { agents: "away", open: false, next_opening: null } });
  const state = ctx.view().states.at(-1);
  assert.equal(state.line.state, "closed");
  assert.equal(state.mode, "offline");
});

test("the pre-chat form is shown until answered, and the offline form posts the message once", async () => {
  const site = { ...SITE, status: { agents: "online", open: true } };
  const prechat = { mode: "email_required", done: false, fields: [{ key: "topic", label: "Topic", type: "text", required: true, options: [] }] };
  const ctx = setup({
    answers: [jsonResponse(200, session({ site, prechat })), jsonResponse(400, { error: { code: "invalid_form", fields: { email: "is required" } } }), jsonResponse(200, { ok: true })],
  });
  await ctx.widget.start();
  ctx.ready();
  assert.equal(ctx.view().states.at(-1).mode, "prechat");
  const refused = await ctx.view().handlers.onForm("prechat", { email: "", answers: { topic: "x" } });
  assert.deepEqual(refused, { ok: false, code: "invalid_form", fields: { email: "is required" } });
  assert.equal(ctx.view().states.at(-1).mode, "prechat");
  const accepted = await ctx.view().handlers.onForm("prechat", { email: "g@example.com", answers: { topic: "x" } });
  assert.equal(accepted.ok, true);
  assert.equal(ctx.view().states.at(-1).mode, "chat");
  const posted = ctx.requests.at(-1);
  assert.equal(posted.url, "http://parley.test/api/widget/v1/prechat");
  assert.deepEqual(posted.body, { site_key: "pk_test", visitor_token: "tok-1", email: "g@example.com", answers: { topic: "x" } });
});

test("a language is fetched before the widget shows it, and English stands in when it cannot be", async () => {
  const asked = [];
  const ctx = setup({
    env: {
      languages: ["es-MX"],
      loadStrings: async (locale) => {
        asked.push(locale);
        throw new Error("the network is down");
      },
    },
  });
  await ctx.widget.start();
  ctx.ready();
  assert.deepEqual(asked, ["es"]);
  assert.equal(ctx.view().t("send"), "Send");
  assert.equal(ctx.widget.state.phase, "running", "the chat works in English");
});


test("email me this conversation: asked on the socket, an address asked for only when needed", async () => {
  const ctx = setup({ env: { languages: ["en"] } });
  await ctx.widget.start();
  ctx.ready([agent(1, "Hello")]);
  ctx.view().handlers.onTranscript("");
  assert.deepEqual(ctx.last().sentOfType("transcript"), [{ type: "transcript" }]);
  ctx.last().receive({ type: "error", code: "no_email", message: "Give an email address" });
  assert.equal(ctx.view().askedEmail, 1, "the panel asks for an address");
  ctx.view().handlers.onTranscript("grace@example.com");
  assert.deepEqual(ctx.last().sentOfType("transcript").at(-1), { type: "transcript", email: "grace@example.com" });
  ctx.last().receive({ type: "transcript", email: "grace@example.com" });
  assert.equal(ctx.view().askedEmail, 0);
  assert.deepEqual(ctx.view().flashed.at(-1), "We will email this conversation to grace@example.com.");
  ctx.last().receive({ type: "error", code: "transcript_recent", message: "later" });
  assert.equal(ctx.view().flashed.at(-1), "A copy was emailed a moment ago.");
});

test("'Your conversations' lists with the token; picking one moves the socket, outbox and read mark to it", async () => {
  const calls = [];
  const sessions = [
    session(),
    session({ conversation: "conv2", token: "tok-2", ws_url: "ws://parley.test/ws/chat/conv2/?site_key=pk_test" }),
  ];
  const listed = [
    { id: "conv2", status: "closed", last_message: { text: "Thanks", author: "agent" }, agent: null, unread: 2 },
    { id: "conv1", status: "open", last_message: { text: "Hello", author: "visitor" }, agent: null, unread: 0 },
  ];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    if (url.includes("/api/widget/v1/site?")) return jsonResponse(200, { ...SITE, consent_required: false });
    if (url.includes("/api/widget/v1/conversations?")) return jsonResponse(200, { conversations: listed, has_more: false });
    return jsonResponse(200, sessions.shift());
  };
  const ctx = setup({ env: { fetch } });
  await ctx.widget.start();
  ctx.ready();
  const view = ctx.view();
  const shown = [];
  view.showList = (list, room) => shown.push(list.then((items) => items.map((item) => [item.id, item.id === room])));
  view.showChat = () => shown.push("chat");
  view.handlers.onList();
  assert.equal(shown.length, 1, "the list shows at once, loading");
  assert.deepEqual(
    await shown[0],
    [
      ["conv2", false],
      ["conv1", true],
    ],
  );
  const list = calls.find((call) => call.url.includes("/conversations?"));
  assert.equal(list.url, "http://parley.test/api/widget/v1/conversations?site_key=pk_test");
  assert.equal(list.init.headers.Authorization, "Bearer tok-1");
  assert.equal(list.init.credentials, "omit");

  // The one it is in: back to the chat, no request.
  const before = calls.length;
  view.handlers.onPick("conv1");
  assert.equal(calls.length, before);
  assert.equal(shown.at(-1), "chat");

  await view.handlers.onPick("conv2");
  const asked = JSON.parse(calls.at(-1).init.body);
  assert.equal(asked.conversation, "conv2");
  assert.equal(asked.visitor_token, "tok-1");
  assert.equal(ctx.sockets[0].closedWith?.code, 1000, "the previous room's socket is closed");
  assert.match(ctx.last().url, /\/ws\/chat\/conv2\//);
  ctx.last().accept();
  assert.deepEqual(ctx.last().sent[0], { type: "auth", token: "tok-2" }, "a room of its own: the latest, no `since`");
  ctx.last().receive({ type: "ready", room: "conv2", visitor_id: "v1", messages: [], has_more: false });
  assert.equal(ctx.widget.state.room, "conv2");
  assert.equal(shown.at(-1), "chat");
  assert.equal(ctx.views.length, 1, "the same panel");
  assert.equal(JSON.parse(ctx.storage.getItem("parley:pk_test:session")).conversation, "conv2");
});

test("'New conversation' asks for one; a refusal (its budget) is said and the room stays", async () => {
  const calls = [];
  const answers = [jsonResponse(200, session()), jsonResponse(429, { error: { code: "rate_limited", message: "later" }, retry_after: 60 })];
  const fetch = async (url, init) => {
    if (url.includes("/api/widget/v1/site?")) return jsonResponse(200, { ...SITE, consent_required: false });
    calls.push({ url, init });
    return answers.shift();
  };
  const ctx = setup({ env: { fetch } });
  await ctx.widget.start();
  ctx.ready();
  const view = ctx.view();
  view.showChat = () => {};
  await view.handlers.onNew();
  assert.equal(JSON.parse(calls.at(-1).init.body).new_conversation, true);
  assert.deepEqual(view.flashed, [STRINGS.fr.listFailed]);
  assert.equal(ctx.sockets.length, 1);
  assert.equal(ctx.widget.state.room, "conv1");
});

test("'New conversation' clicked twice while the first is on its way asks once", async () => {
  const calls = [];
  let release;
  const fetch = async (url, init) => {
    if (url.includes("/api/widget/v1/site?")) return jsonResponse(200, { ...SITE, consent_required: false });
    calls.push(JSON.parse(init.body));
    if (calls.length === 1) return jsonResponse(200, session());
    await new Promise((resolve) => (release = resolve));
    return jsonResponse(200, session({ conversation: "conv2", token: "tok-2" }));
  };
  const ctx = setup({ env: { fetch } });
  await ctx.widget.start();
  ctx.ready();
  const view = ctx.view();
  view.showChat = () => {};
  const first = view.handlers.onNew();
  await flush();
  await view.handlers.onNew();
  release();
  await first;
  assert.equal(calls.length, 2);
  assert.equal(ctx.sockets.length, 2);
  assert.match(ctx.last().url, /\/ws\/chat\/conv2\//);
});

test("an answer that comes while the list is shown is read only once the conversation is back", async () => {
  const ctx = setup();
  await ctx.widget.start();
  ctx.ready();
  const view = ctx.view();
  view.open();
  view.listing = true;
  ctx.last().receive(agent(7, "Here you go"));
  assert.deepEqual(ctx.last().sentOfType("read"), []);
  view.listing = false;
  view.handlers.onVisible();
  assert.deepEqual(ctx.last().sentOfType("read"), [{ type: "read", up_to: 7 }]);
});
