// What the page knows, in one object every module reads: who is signed in, their
// conversations, the names of the people in them, and the open conversation's view.

export const $ = (id) => document.getElementById(id);

export const state = {
  /** The signed-in user, or null. */
  me: null,
  /** The Connection of the signed-in user. */
  connection: null,
  /** The Outbox of the signed-in user. */
  outbox: null,
  /** Conversation id -> the conversation as the page tracks it (see track()). */
  conversations: new Map(),
  /** User id -> display name. */
  names: new Map(),
  /** The open conversation's id, or null. */
  currentId: null,
  /** The open conversation's messages and paging (see timeline.js), or null. */
  view: null,
};

/** A conversation from the API as the page tracks it. */
export function track(summary) {
  const last = summary.last_message || null;
  return {
    id: summary.id,
    title: summary.title,
    owner_id: summary.owner_id,
    activity: Date.parse(last ? last.created_at : summary.created_at) || 0,
    preview: last,
    // Messages up to `baseline` are counted in `unread` by the server already.
    baseline: last ? last.id : 0,
    lastId: last ? last.id : 0,
    lastSeq: last ? last.seq : 0,
    seen: new Set(),
    unread: summary.unread_count || 0,
    online: new Set(),
    reads: new Map(),
    readSent: 0,
    members: null,
  };
}

export function nameOf(userId) {
  if (state.me && userId === state.me.id) return state.me.display_name || state.me.username;
  return state.names.get(userId) || `user ${userId}`;
}

/** Says `text` to screen readers through the polite live region. */
export function announce(text) {
  const region = $("announcer");
  region.textContent = "";
  // A fresh node each time, so the same words twice are announced twice.
  requestAnimationFrame(() => {
    region.textContent = text;
  });
}
