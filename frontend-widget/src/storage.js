// The widget's memory in the page's localStorage, one namespace per site key. localStorage may be
// missing or throw (privacy modes, sandboxed frames, a full quota) and values may have been
// changed by hand: every read tolerates that, and the widget then forgets instead of failing.

// No probe write here: a site that asks the visitor's consent must find nothing written before
// it is given, and a storage that refuses writes is caught at each write anyway (createStore).
export function pageStorage(window) {
  try {
    return window.localStorage ?? null;
  } catch {
    return null;
  }
}

export function createStore(backend, siteKey) {
  const prefix = `parley:${siteKey}:`;
  const memory = new Map();
  return {
    get(name, fallback = null) {
      if (memory.has(name)) return memory.get(name);
      let raw = null;
      try {
        raw = backend ? backend.getItem(prefix + name) : null;
      } catch {
        raw = null;
      }
      if (raw == null) return fallback;
      try {
        return JSON.parse(raw);
      } catch {
        return fallback;
      }
    },
    set(name, value) {
      try {
        if (!backend) throw new Error("no storage");
        backend.setItem(prefix + name, JSON.stringify(value));
        memory.delete(name);
      } catch {
        memory.set(name, value);
      }
    },
    remove(name) {
      memory.delete(name);
      try {
        backend?.removeItem(prefix + name);
      } catch {
        // Nothing stored there to forget.
      }
    },
    // Every name of this site key but those in `keep` (the page's log-out: each conversation's
    // outbox, read mark and rating go with the session).
    forget(keep) {
      const names = [...memory.keys()];
      try {
        for (let i = 0; i < backend.length; i++) {
          const key = backend.key(i);
          if (key.startsWith(prefix)) names.push(key.slice(prefix.length));
        }
      } catch {
        // Unreadable: what is in memory is all there is to forget.
      }
      for (const name of names) if (!keep.includes(name)) this.remove(name);
    },
  };
}
