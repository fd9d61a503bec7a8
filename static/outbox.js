// Messages typed but not yet acknowledged. They live in sessionStorage so a reload keeps
// them, and each keeps its client_msg_id for life, so a re-send after a reconnect or a
// reload is recognised by the server and never stored twice.

const KEY = "palaver.outbox";

/** A fresh client_msg_id. */
export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Outbox {
  constructor(userId) {
    this.userId = userId;
    this.entries = new Map();
    let saved = [];
    try {
      saved = JSON.parse(sessionStorage.getItem(KEY) || "[]");
    } catch {
      saved = [];
    }
    for (const entry of saved) {
      // A reload forgets what failed and why: every saved entry is worth another try.
      if (entry.user_id === userId) this.entries.set(entry.client_msg_id, { ...entry, state: "pending" });
    }
  }

  /** Adds a message to send; returns its entry. */
  add(conversationId, content) {
    const entry = {
      client_msg_id: newClientId(),
      conversation_id: conversationId,
      content,
      user_id: this.userId,
      created_at: new Date().toISOString(),
      state: "pending",
    };
    this.entries.set(entry.client_msg_id, entry);
    this.save();
    return entry;
  }

  get(clientId) {
    return this.entries.get(clientId);
  }

  /** Forgets an acknowledged message; whether it was waiting here. */
  settle(clientId) {
    const had = this.entries.delete(clientId);
    if (had) this.save();
    return had;
  }

  mark(clientId, state) {
    const entry = this.entries.get(clientId);
    if (entry) entry.state = state;
    return entry;
  }

  /** The entries of one conversation, oldest first. */
  of(conversationId) {
    return [...this.entries.values()].filter((e) => e.conversation_id === conversationId);
  }

  /** The entries still to be sent (not the failed ones, which wait for a retry). */
  pending() {
    return [...this.entries.values()].filter((e) => e.state === "pending");
  }

  /** Drops the entries of a conversation the user no longer belongs to. */
  dropConversation(conversationId) {
    for (const entry of this.of(conversationId)) this.entries.delete(entry.client_msg_id);
    this.save();
  }

  save() {
    const list = [...this.entries.values()].map(({ state, ...kept }) => kept);
    try {
      if (list.length) sessionStorage.setItem(KEY, JSON.stringify(list));
      else sessionStorage.removeItem(KEY);
    } catch {
      // Storage full or refused: the messages still go out from memory.
    }
  }
}
