// Messages the visitor sent that the server has not acknowledged yet, in the order they were
// written. Kept in storage so a reload does not lose them; each keeps the `client_id` it was first
// sent with, which makes every resend safe (the server stores a `client_id` once per room).

export function newClientId(crypto = globalThis.crypto) {
  if (crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const isItem = (item) =>
  item !== null &&
  typeof item === "object" &&
  typeof item.client_id === "string" &&
  typeof item.text === "string";

export function createOutbox(store, { key = "outbox", makeId = newClientId, now = Date.now } = {}) {
  const stored = store.get(key, []);
  let items = Array.isArray(stored) ? stored.filter(isItem) : [];
  const save = () => (items.length ? store.set(key, items) : store.remove(key));
  return {
    add(text, attachments = []) {
      const item = { client_id: makeId(), text, created: now() };
      if (attachments.length) item.attachments = attachments;
      items.push(item);
      save();
      return item;
    },
    // Forget a message the server has stored; true when it was waiting here.
    ack(clientId) {
      const before = items.length;
      items = items.filter((item) => item.client_id !== clientId);
      if (items.length === before) return false;
      save();
      return true;
    },
    has: (clientId) => items.some((item) => item.client_id === clientId),
    pending: () => items.slice(),
    clear() {
      items = [];
      save();
    },
  };
}
