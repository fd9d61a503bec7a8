// The open conversation's messages: one element per message id, in id order, then the
// messages still being sent. Older pages load when the reader scrolls to the top, without
// moving what they were looking at; new messages are followed only from the bottom.
// Opened at a message (a search hit), the view starts around it and also loads newer
// pages as the reader scrolls down, until it meets the newest.

import { api } from "./api.js";
import { $, state, nameOf, announce } from "./state.js";
import { el, button, linkified, timeElement } from "./render.js";

const PAGE = 50;
const NEAR_EDGE_PX = 80;
const list = () => $("messages");

/** Handlers the timeline calls back into (set by app.js). */
export const hooks = {
  edit: () => {},
  retry: () => {},
  discard: () => {},
  read: () => {},
  reopen: null,
};

/** An empty view of conversation `id`, filled by loadNewest() or loadAround(). */
export function newView(id) {
  return {
    id,
    messages: new Map(),
    oldestId: null,
    hasMore: false,
    loadingOlder: false,
    loaded: false,
    // Set when opened at a message: the newest id loaded, and whether newer ones remain.
    newestId: null,
    hasNewer: false,
    loadingNewer: false,
    focusId: null,
  };
}

export function atBottom() {
  const node = list();
  return node.scrollHeight - node.scrollTop - node.clientHeight < NEAR_EDGE_PX;
}

export function scrollToBottom() {
  const node = list();
  node.scrollTop = node.scrollHeight;
  $("jump").hidden = true;
}

/** The newest page, then older ones until the list can scroll. */
export async function loadNewest(view) {
  const { messages, has_more: hasMore } = await api(
    "GET",
    `/api/messages?conversation_id=${view.id}&limit=${PAGE}`,
  );
  if (state.view !== view) return;
  view.hasMore = hasMore;
  view.loaded = true;
  for (const message of messages) place(message);
  noteOldest(view, messages);
  markEdge(view);
  scrollToBottom();
  await fillScreen(view);
}

/** The page around message `id`, shown with that message marked and in the middle. */
export async function loadAround(view, id) {
  const answer = await api(
    "GET",
    `/api/messages?conversation_id=${view.id}&around=${id}&limit=${PAGE}`,
  );
  if (state.view !== view) return;
  const { messages } = answer;
  view.hasMore = answer.has_more_before;
  view.hasNewer = answer.has_more_after;
  view.loaded = true;
  view.focusId = id;
  for (const message of messages) place(message);
  noteOldest(view, messages);
  noteNewest(view, messages);
  markEdge(view);
  const target = list().querySelector(`li[data-id="${id}"]`);
  if (target) target.scrollIntoView({ block: "center" });
  $("jump").hidden = !view.hasNewer;
  await fillScreen(view);
}

async function fillScreen(view) {
  const node = list();
  while (state.view === view && (view.hasMore || view.hasNewer) && node.scrollHeight <= node.clientHeight + NEAR_EDGE_PX) {
    if (view.hasMore) await loadOlder(view);
    else await loadNewer(view);
  }
}

/** The page after the newest message loaded, for a view opened at a message. */
export async function loadNewer(view) {
  if (view.loadingNewer || !view.hasNewer || view.newestId === null) return;
  view.loadingNewer = true;
  try {
    const { messages, has_more: hasMore } = await api(
      "GET",
      `/api/messages?conversation_id=${view.id}&after=${view.newestId}&limit=${PAGE}`,
    );
    if (state.view !== view) return;
    for (const message of messages) place(message);
    view.hasNewer = hasMore;
    noteNewest(view, messages);
    if (!view.hasNewer) $("jump").hidden = atBottom();
  } finally {
    view.loadingNewer = false;
  }
}

function noteNewest(view, messages) {
  const last = messages[messages.length - 1];
  if (last && (view.newestId === null || last.id > view.newestId)) view.newestId = last.id;
}

/** The page before the oldest message shown, keeping the reader's place. */
export async function loadOlder(view) {
  if (view.loadingOlder || !view.hasMore || view.oldestId === null) return;
  view.loadingOlder = true;
  try {
    const { messages, has_more: hasMore } = await api(
      "GET",
      `/api/messages?conversation_id=${view.id}&before=${view.oldestId}&limit=${PAGE}`,
    );
    if (state.view !== view) return;
    const node = list();
    const fromBottom = node.scrollHeight - node.scrollTop;
    for (const message of messages) place(message);
    view.hasMore = hasMore;
    noteOldest(view, messages);
    markEdge(view);
    node.scrollTop = node.scrollHeight - fromBottom;
  } finally {
    view.loadingOlder = false;
  }
}

function noteOldest(view, messages) {
  if (messages.length && (view.oldestId === null || messages[0].id < view.oldestId)) {
    view.oldestId = messages[0].id;
  }
}

function markEdge(view) {
  const existing = list().querySelector(".history-edge");
  if (view.hasMore) {
    if (existing) existing.remove();
  } else if (!existing) {
    const edge = el("li", "history-edge", "This is the start of the conversation");
    list().prepend(edge);
  }
}

/** Shows a message that arrived now; follows it only when the reader is at the bottom. */
export function showLive(message) {
  // A view opened at an older message does not jump away from it.
  const behind = state.view && state.view.hasNewer;
  const follow = !behind && (atBottom() || message.sender_id === state.me.id);
  place(message);
  if (follow) scrollToBottom();
  else $("jump").hidden = false;
}

/** Shows `message` in place of its older self, or at its place in id order. */
export function place(message) {
  const view = state.view;
  if (!view || message.conversation_id !== view.id) return;
  view.messages.set(message.id, message);
  const node = list();
  const fresh = messageElement(message);
  const existing = node.querySelector(`li[data-id="${message.id}"]`);
  if (existing) {
    // The old element's "left the screen" must not cancel the new one's "came into view".
    observer.unobserve(existing);
    existing.replaceWith(fresh);
  } else {
    let after = null;
    for (let item = node.lastElementChild; item; item = item.previousElementSibling) {
      if (item.dataset.id && Number(item.dataset.id) < message.id) {
        after = item;
        break;
      }
    }
    if (after) after.after(fresh);
    else {
      const edge = node.querySelector(".history-edge");
      if (edge) edge.after(fresh);
      else node.prepend(fresh);
    }
  }
  observer.observe(fresh);
  renderSeen();
}

/** Re-renders every shown message, once their senders' names are known. */
export function rerender() {
  if (!state.view) return;
  for (const message of state.view.messages.values()) place(message);
}

function messageElement(message) {
  const own = message.sender_id === state.me.id;
  const item = el("li", "message");
  item.dataset.id = String(message.id);
  item.classList.toggle("own", own);
  item.classList.toggle("deleted", message.deleted);
  item.classList.toggle("found", state.view !== null && state.view.focusId === message.id);
  const meta = el("div", "meta");
  meta.append(el("span", "sender", own ? "You" : nameOf(message.sender_id)), timeElement(message.created_at));
  if (message.edited_at && !message.deleted) meta.append(el("span", "edited", "edited"));
  const body = el("div", "body");
  if (message.deleted) body.textContent = "message deleted";
  else body.append(linkified(message.content));
  item.append(meta, body);
  const conversation = state.conversations.get(message.conversation_id);
  const mayDelete = own || (conversation && conversation.owner_id === state.me.id);
  if (!message.deleted && (own || mayDelete)) {
    const actions = el("div", "actions");
    if (own) actions.append(button("Edit", "link edit", () => hooks.edit(message)));
    actions.append(deleteButton(message));
    item.append(actions);
  }
  return item;
}

/** Delete asks once more in place: a second click within a few seconds deletes. */
function deleteButton(message) {
  const node = button("Delete", "link delete", async () => {
    if (node.dataset.confirm !== "yes") {
      node.dataset.confirm = "yes";
      node.textContent = "Really delete?";
      setTimeout(() => {
        node.dataset.confirm = "";
        node.textContent = "Delete";
      }, 4000);
      return;
    }
    try {
      await api("DELETE", `/api/messages/${message.id}`);
      place({ ...message, deleted: true, content: "" });
    } catch (error) {
      announce(`Not deleted: ${error.message}`);
    }
  });
  return node;
}

/** A message of the outbox, shown after the sent ones until its ack. */
export function placePending(entry) {
  if (!state.view || entry.conversation_id !== state.view.id) return;
  const node = list();
  const item = el("li", `message own ${entry.state}`);
  item.dataset.clientId = entry.client_msg_id;
  const meta = el("div", "meta");
  meta.append(el("span", "sender", "You"), timeElement(entry.created_at));
  const body = el("div", "body");
  body.append(linkified(entry.content));
  const status = el("div", "state");
  if (entry.state === "failed") {
    status.append(el("span", "", `Not sent${entry.reason ? `: ${entry.reason}` : ""} `));
    status.append(button("Retry", "link retry", () => hooks.retry(entry)));
    status.append(" ");
    status.append(button("Discard", "link discard", () => hooks.discard(entry)));
  } else {
    status.textContent = "Sending…";
  }
  item.append(meta, body, status);
  const existing = node.querySelector(`li[data-client-id="${CSS.escape(entry.client_msg_id)}"]`);
  if (existing) existing.replaceWith(item);
  else node.append(item);
}

export function removePending(clientId) {
  const existing = list().querySelector(`li[data-client-id="${CSS.escape(clientId)}"]`);
  if (existing) existing.remove();
}

/** "Seen by …" under the newest of one's own messages. */
export function renderSeen() {
  const view = state.view;
  const line = $("seen");
  if (!view) {
    line.textContent = "";
    return;
  }
  const conversation = state.conversations.get(view.id);
  let newestOwn = 0;
  for (const message of view.messages.values()) {
    if (message.sender_id === state.me.id && !message.deleted && message.id > newestOwn) newestOwn = message.id;
  }
  const readers = [];
  if (conversation && newestOwn) {
    for (const [userId, messageId] of conversation.reads) {
      if (userId !== state.me.id && messageId >= newestOwn) readers.push(nameOf(userId));
    }
  }
  line.textContent = readers.length ? `Seen by ${readers.join(", ")}` : "";
}

// Messages count as read once most of them has been on screen in a visible tab.
const inView = new Set();
const observer = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      const id = Number(entry.target.dataset.id);
      if (entry.isIntersecting) inView.add(id);
      else inView.delete(id);
    }
    reportRead();
  },
  { threshold: 0.5 },
);

export function reportRead() {
  const view = state.view;
  if (!view || document.visibilityState !== "visible" || !inView.size) return;
  let newest = 0;
  for (const id of inView) if (view.messages.has(id) && id > newest) newest = id;
  if (newest) hooks.read(view.id, newest);
}

export function clearTimeline() {
  observer.disconnect();
  inView.clear();
  list().replaceChildren();
  $("jump").hidden = true;
  $("seen").textContent = "";
}

list().addEventListener("scroll", () => {
  const view = state.view;
  if (atBottom() && !(view && view.hasNewer)) $("jump").hidden = true;
  if (view && list().scrollTop < NEAR_EDGE_PX) loadOlder(view).catch(() => {});
  if (view && view.hasNewer && atBottom()) loadNewer(view).catch(() => {});
});
$("jump").addEventListener("click", () => {
  const view = state.view;
  // Opened at an older message: the newest page, as when opening the conversation.
  if (view && view.hasNewer && hooks.reopen) hooks.reopen(view.id);
  else scrollToBottom();
});
document.addEventListener("visibilitychange", reportRead);
