// The chat socket's life: connect, `auth`, keepalive, and what to do after each close. Everything
// from outside (the WebSocket constructor, timers, randomness, the session) is injected so this
// state machine runs under Node's test runner with a fake socket and a fake clock.

import { createBackoff } from "./backoff.js";
import { PING_FRAME, advisedDelay, authFrame, closeAction, parseFrame } from "./protocol.js";

const OPEN = 1;

// status: "connecting" (first try), "online" (after `ready`), "offline" (waiting to reconnect),
// "lost" (the browser says the network is gone: waiting for it to come back), "limited" (plan
// limit, retrying slowly), "closed" (stays closed; `detail.code` says why).
export function createConnection({
  WebSocket,
  timers,
  random = Math.random,
  target, // () => ({ url, token, since }) for the next attempt
  renew, // async () => a new session after 4401; throws an error with `fatal` to give up
  onFrame,
  onStatus,
  pingInterval = 25000,
  pongTimeout = 10000,
  replyWait = 3000, // a sent message unanswered this long makes the widget ping at once
  probeTimeout = 5000, // ... and a socket that answers nothing this long after is dead
  openTimeout = 15000,
  slowRetry = 30000,
  advisedFallback = 5000,
}) {
  const backoff = createBackoff({ random });
  let socket = null;
  let ready = false;
  let stopped = true;
  let needsRenew = false;
  let lastRetryAfter = null;
  let status = null;
  let retryTimer = null;
  let openTimer = null;
  let pingTimer = null;
  let pongTimer = null;
  let replyTimer = null;
  let networkDown = false;

  const setStatus = (next, detail = {}) => {
    if (next === status && !detail.code) return;
    status = next;
    onStatus(next, detail);
  };

  const clearTimers = () => {
    timers.clearTimeout(openTimer);
    timers.clearInterval(pingTimer);
    timers.clearTimeout(pongTimer);
    timers.clearTimeout(replyTimer);
    openTimer = pingTimer = pongTimer = replyTimer = null;
  };

  const detach = (ws) => {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  };

  // With the network gone, an attempt could only fail: wait for the browser's `online` (see
  // networkBack), trying slowly in case that event never comes.
  const schedule = (delay, nextStatus = "offline") => {
    setStatus(networkDown ? "lost" : nextStatus);
    timers.clearTimeout(retryTimer);
    retryTimer = timers.setTimeout(connect, networkDown ? slowRetry * (1 + random()) : delay);
  };

  // Let go of the current socket at once, without waiting for a closing handshake that may
  // never come, and without scheduling anything.
  function release(reason) {
    const ws = socket;
    clearTimers();
    socket = null;
    ready = false;
    if (!ws) return;
    detach(ws);
    try {
      ws.close(4000, reason);
    } catch {
      // Already closing.
    }
  }

  function ping(ws, timeout) {
    ws.send(PING_FRAME);
    if (!pongTimer) pongTimer = timers.setTimeout(() => abandon(ws), timeout);
  }

  function closed(code, reason) {
    clearTimers();
    socket = null;
    const wasReady = ready;
    ready = false;
    if (stopped) return;
    // A close before `ready` counts as a failed attempt: "at once" only follows a good session,
    // so a server that keeps refusing is not hammered in a tight loop.
    const soon = () => (wasReady ? 0 : backoff.next());
    switch (closeAction(code)) {
      case "stay":
        stopped = true;
        setStatus("closed", { code });
        return;
      case "now":
        return schedule(soon());
      case "renew":
        needsRenew = true;
        return schedule(soon());
      case "slow":
        return schedule(slowRetry * (1 + random()), "limited");
      case "advised": {
        const seconds = advisedDelay(reason) ?? lastRetryAfter;
        lastRetryAfter = null;
        return schedule(
          seconds == null ? Math.max(advisedFallback, backoff.next()) : seconds * 1000 + random() * 1000,
        );
      }
      default:
        return schedule(backoff.next());
    }
  }

  // A socket that stopped answering: do not wait for a closing handshake that may never come.
  function abandon(ws) {
    if (ws !== socket) return;
    detach(ws);
    try {
      ws.close(4000, "no answer");
    } catch {
      // Already closing.
    }
    closed(1006, "");
  }

  function startKeepalive(ws) {
    pingTimer = timers.setInterval(() => {
      if (ws !== socket || ws.readyState !== OPEN) return;
      ping(ws, pongTimeout);
    }, pingInterval);
  }

  async function connect() {
    retryTimer = null;
    if (stopped || socket) return;
    if (networkDown) setStatus("lost");
    else if (status !== "limited") setStatus(status === null ? "connecting" : "offline");
    if (needsRenew) {
      try {
        await renew();
        needsRenew = false;
      } catch (error) {
        if (stopped) return;
        if (error?.fatal) {
          stopped = true;
          setStatus("closed", { code: 4401, error });
        } else {
          schedule(backoff.next());
        }
        return;
      }
      if (stopped || socket) return;
    }
    const { url, token, since } = target();
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      schedule(backoff.next());
      return;
    }
    socket = ws;
    openTimer = timers.setTimeout(() => abandon(ws), openTimeout);
    ws.onopen = () => ws.send(authFrame(token, since));
    ws.onmessage = (event) => {
      if (ws !== socket) return;
      // Any frame proves the socket alive, not only a pong.
      timers.clearTimeout(pongTimer);
      timers.clearTimeout(replyTimer);
      pongTimer = replyTimer = null;
      const frame = parseFrame(event.data);
      if (!frame) return;
      if (frame.type === "ready") {
        timers.clearTimeout(openTimer);
        openTimer = null;
        ready = true;
        networkDown = false;
        backoff.reset();
        if (!pingTimer) startKeepalive(ws);
        setStatus("online");
      } else if (frame.type === "error" && frame.retry_after != null) {
        lastRetryAfter = frame.retry_after;
      }
      if (frame.type !== "pong") onFrame(frame);
    };
    ws.onclose = (event) => {
      if (ws !== socket) return;
      detach(ws);
      closed(event.code, event.reason);
    };
    ws.onerror = () => {}; // a close event follows with the code
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      status = status === "closed" ? "offline" : status;
      connect();
    },
    // Send a frame on a socket that has passed `auth`; false when there is none right now.
    // `awaitsReply`: the server answers this frame (a message's `ack`); when nothing at all
    // arrives within `replyWait`, a ping checks the socket now rather than at the next
    // keepalive, so a silently dropped network is found in seconds while a message waits.
    send(data, { awaitsReply = false } = {}) {
      if (!socket || !ready || socket.readyState !== OPEN) return false;
      const ws = socket;
      ws.send(data);
      if (awaitsReply && !replyTimer) {
        replyTimer = timers.setTimeout(() => {
          replyTimer = null;
          if (ws === socket && ws.readyState === OPEN) ping(ws, probeTimeout);
        }, replyWait);
      }
      return true;
    },
    // The browser says the network is gone (`offline`): the socket cannot be trusted, so it is
    // dropped now and the state shown at once, instead of after a keepalive's timeout.
    networkLost() {
      if (stopped) return;
      networkDown = true;
      release("offline");
      schedule(0);
    },
    // The network is back (`online`): a fresh start now, whatever the backoff had reached, and
    // a socket still trying from the offline time is replaced (it may hang until its timeout).
    networkBack() {
      networkDown = false;
      if (stopped) return;
      backoff.reset();
      if (socket && ready) {
        if (socket.readyState === OPEN) ping(socket, probeTimeout);
        return;
      }
      release("network back");
      timers.clearTimeout(retryTimer);
      retryTimer = null;
      connect();
    },
    stop() {
      stopped = true;
      timers.clearTimeout(retryTimer);
      retryTimer = null;
      clearTimers();
      if (socket) {
        const ws = socket;
        socket = null;
        ready = false;
        detach(ws);
        try {
          ws.close(1000, "closed by the page");
        } catch {
          // Already closing.
        }
      }
      setStatus("closed", { code: 1000 });
    },
    get status() {
      return status;
    },
    get networkDown() {
      return networkDown;
    },
    get online() {
      return ready;
    },
    get attempt() {
      return backoff.attempt;
    },
  };
}
