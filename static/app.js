// The bundled chat page. It talks to the server it came from: the session cookie set at
// sign-in authenticates the HTTP calls and the WebSocket handshake alike, so the page
// never holds a token. Everything people typed goes on the page as text, never as HTML.
//
// Whether a visit is signed in: a first visit has no cookie, and asking /api/auth/me would
// only earn a 401 in the console. So the page keeps one flag in localStorage, "a sign-in
// happened in this browser" (no token, no user data), set at sign-in and cleared at
// sign-out; only with the flag does it ask /api/auth/me.

import { api, ApiError } from "./api.js";
import { Connection } from "./connection.js";
import { Outbox } from "./outbox.js";
import { $, state, track, nameOf, announce } from "./state.js";
import * as timeline from "./timeline.js";
import * as sidebar from "./conversations.js";
import * as search from "./search.js";

const SIGNED_IN = "palaver.signed-in";
const TYPING_EVERY_MS = 2500;
const TYPING_SHOWN_MS = 4000;

let mode = "login";
let editing = null;
let lastTypingSent = 0;
const typists = new Map();

// ---- Signing in and out

function setMode(next) {
  mode = next;
  const register = mode === "register";
  $("auth-heading").textContent = register ? "Create an account" : "Sign in";
  $("auth-submit").textContent = register ? "Create account" : "Sign in";
  $("auth-switch-text").textContent = register ? "Have an account?" : "New here?";
  $("auth-switch").textContent = register ? "Sign in" : "Create an account";
  $("display-name-row").hidden = !register;
  $("password").autocomplete = register ? "new-password" : "current-password";
  $("auth-error").textContent = "";
}

async function submitAuth(event) {
  event.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  if (!username || !password) {
    $("auth-error").textContent = "Enter a username and a password.";
    return;
  }
  const body = { username, password };
  if (mode === "register" && $("display-name").value.trim()) body.display_name = $("display-name").value.trim();
  $("auth-submit").disabled = true;
  try {
    const answer = await api("POST", `/api/auth/${mode}`, body);
    $("password").value = "";
    await start(answer.user);
  } catch (error) {
    $("auth-error").textContent = error.message;
  } finally {
    $("auth-submit").disabled = false;
  }
}

async function start(user) {
  stopSession();
  localStorage.setItem(SIGNED_IN, "1");
  state.me = user;
  state.outbox = new Outbox(user.id);
  $("whoami").textContent = user.display_name || user.username;
  $("logout").hidden = false;
  search.enable(true);
  $("auth").hidden = true;
  $("chat").hidden = false;
  await loadConversations();
  state.connection = new Connection({ onFrame: receive, onState: showConnection, onEnded: sessionEnded, onRefused: checkSession });
  state.connection.start();
}

/** Forgets everything of the signed-in user; their socket's later events are ignored. */
function stopSession() {
  if (state.connection) state.connection.stop();
  state.connection = null;
  state.me = null;
  state.outbox = null;
  state.conversations.clear();
  state.names.clear();
  search.enable(false);
  closeRoom();
}

function showSignedOut(message) {
  stopSession();
  localStorage.removeItem(SIGNED_IN);
  $("logout").hidden = true;
  $("whoami").textContent = "";
  $("connection").hidden = true;
  $("chat").hidden = true;
  $("auth").hidden = false;
  setMode("login");
  $("auth-error").textContent = message || "";
  $("username").focus();
}

async function logout() {
  const outbox = state.outbox;
  stopSession();
  // What was not sent is not left behind for whoever uses this browser next.
  if (outbox) {
    outbox.entries.clear();
    outbox.save();
  }
  await api("POST", "/api/auth/logout").catch(() => {});
  showSignedOut();
}

function sessionEnded() {
  showSignedOut("Your session ended. Please sign in again.");
}

/** A handshake that failed may mean the session is gone; the server says which. */
async function checkSession() {
  const me = state.me;
  try {
    await api("GET", "/api/auth/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && state.me === me) sessionEnded();
  }
}

function showConnection(kind, detail) {
  const node = $("connection");
  node.hidden = false;
  node.dataset.state = kind;
  if (kind === "online") node.textContent = "Connected";
  else if (kind === "connecting") node.textContent = detail ? "Reconnecting…" : "Connecting…";
  else node.textContent = `Offline · retrying in ${Math.max(1, Math.round(detail / 1000))} s`;
}

// ---- Conversations

async function loadConversations() {
  const { conversations } = await api("GET", "/api/conversations");
  const fresh = [];
  for (const summary of conversations) {
    if (!state.conversations.has(summary.id)) {
      state.conversations.set(summary.id, track(summary));
      fresh.push(summary.id);
    }
  }
  sidebar.renderList();
  return fresh;
}

function join(id) {
  state.connection.send({ type: "join", conversation_id: id, ref: `join:${id}` });
}

/** Opens conversation `id` at its newest messages, or `around` a message id. */
async function openConversation(id, around = null) {
  const conversation = state.conversations.get(id);
  if (!conversation) return;
  if (editing) cancelEdit();
  timeline.clearTimeline();
  state.currentId = id;
  const view = timeline.newView(id);
  state.view = view;
  conversation.unread = 0;
  $("chat").classList.add("in-room");
  $("send").hidden = false;
  $("members-panel").hidden = true;
  $("members-toggle").setAttribute("aria-expanded", "false");
  renderTyping();
  sidebar.renderHeader();
  sidebar.renderList();
  for (const entry of state.outbox.of(id)) timeline.placePending(entry);
  try {
    const messages = around === null ? timeline.loadNewest(view) : timeline.loadAround(view, around);
    await Promise.all([sidebar.loadMembers(id), messages]);
    timeline.rerender();
    for (const message of view.messages.values()) {
      conversation.seen.add(message.id);
      if (message.id > conversation.lastId) {
        conversation.lastId = message.id;
        conversation.lastSeq = message.seq;
      }
    }
  } catch (error) {
    announce(`Could not open the conversation: ${error.message}`);
  }
  // On a phone the keyboard would cover the messages just opened; there, one taps the box.
  if (state.view === view && matchMedia("(min-width: 720px)").matches) $("content").focus();
}

/** Opens the conversation of a search hit at that message. */
async function openHit(conversationId, messageId) {
  if (!state.conversations.has(conversationId)) {
    const fresh = await loadConversations().catch(() => []);
    fresh.forEach(join);
  }
  await openConversation(conversationId, messageId);
}

function closeRoom() {
  state.currentId = null;
  state.view = null;
  timeline.clearTimeline();
  $("chat").classList.remove("in-room");
  $("send").hidden = true;
  $("members-panel").hidden = true;
  $("typing").textContent = "";
  if (editing) cancelEdit();
  if (state.me) {
    sidebar.renderHeader();
    sidebar.renderList();
  }
}

function forget(id, message) {
  const conversation = state.conversations.get(id);
  if (!conversation) return;
  state.conversations.delete(id);
  state.outbox.dropConversation(id);
  if (state.currentId === id) closeRoom();
  sidebar.renderList();
  announce(message.replace("{title}", conversation.title));
}

async function createConversation(event) {
  event.preventDefault();
  $("new-error").textContent = "";
  const title = $("new-title").value.trim();
  const members = $("new-members").value.split(",").map((m) => m.trim()).filter(Boolean);
  if (!title) {
    $("new-error").textContent = "Give the conversation a title.";
    return;
  }
  try {
    const { conversation } = await api("POST", "/api/conversations", { title, members });
    $("new-title").value = "";
    $("new-members").value = "";
    if (!state.conversations.has(conversation.id)) {
      state.conversations.set(conversation.id, track({ ...conversation, unread_count: 0 }));
    }
    join(conversation.id);
    await openConversation(conversation.id);
  } catch (error) {
    $("new-error").textContent = error.message;
  }
}

async function leave(id) {
  if (id === null) return;
  try {
    await api("DELETE", `/api/conversations/${id}/members/${state.me.id}`);
    forget(id, "You left {title}");
  } catch (error) {
    $("members-error").textContent = error.message;
  }
}

// ---- Frames from the server

function receive(frame) {
  switch (frame.type) {
    case "ready":
      onReady();
      break;
    case "joined":
      onJoined(frame);
      break;
    case "history":
      onHistory(frame);
      break;
    case "message":
      ingest(frame.message, true);
      break;
    case "ack":
      settle(frame.client_msg_id);
      ingest(frame.message, true);
      break;
    case "message_edited":
    case "message_deleted":
      changed(frame.message);
      break;
    case "typing":
      onTyping(frame);
      break;
    case "read":
      onRead(frame);
      break;
    case "presence":
      onPresence(frame);
      break;
    case "member_added":
    case "member_removed":
      onMembership(frame);
      break;
    case "left":
      forget(frame.conversation_id, frame.reason === "removed" ? "You were removed from {title}" : "You left {title}");
      break;
    case "error":
      onError(frame);
      break;
    default:
      break;
  }
}

function onReady() {
  for (const id of state.conversations.keys()) join(id);
  for (const entry of state.outbox.pending()) sendEntry(entry);
  // Conversations one was added to while offline.
  loadConversations().then((fresh) => fresh.forEach(join), () => {});
}

function onJoined(frame) {
  const conversation = state.conversations.get(frame.conversation_id);
  if (!conversation) return;
  conversation.online = new Set(frame.online);
  if (frame.last_message_id && frame.last_message_id > conversation.lastId) catchUp(conversation);
  if (conversation.id === state.currentId) sidebar.renderHeader();
}

/** Asks for what came after the last message seen, or the newest page if none was. */
function catchUp(conversation) {
  const frame = { type: "history", conversation_id: conversation.id, limit: 200, ref: `after:${conversation.id}` };
  if (conversation.lastId) frame.after = conversation.lastId;
  state.connection.send(frame);
}

function onHistory(frame) {
  const conversation = state.conversations.get(frame.conversation_id);
  if (!conversation) return;
  for (const message of frame.messages) ingest(message, false);
  const paging = typeof frame.ref === "string" && frame.ref.startsWith("after:");
  if (paging && frame.has_more && frame.messages.length) catchUp(conversation);
}

/** A message from the socket: shown once (keyed by id), counted, announced. */
function ingest(message, live) {
  const conversation = state.conversations.get(message.conversation_id);
  if (!conversation) return;
  if (live && conversation.lastSeq && message.seq > conversation.lastSeq + 1) catchUp(conversation);
  const isNew = message.id > conversation.baseline && !conversation.seen.has(message.id);
  conversation.seen.add(message.id);
  if (message.id > conversation.lastId) {
    conversation.lastId = message.id;
    conversation.lastSeq = message.seq;
  }
  if (!conversation.preview || message.id >= conversation.preview.id) {
    conversation.preview = message;
    conversation.activity = Date.parse(message.created_at) || Date.now();
  }
  const own = message.sender_id === state.me.id;
  if (own && message.client_msg_id) settle(message.client_msg_id);
  const open = conversation.id === state.currentId;
  if (isNew && !own && !message.deleted) {
    if (!open) conversation.unread += 1;
    stopTyping(conversation.id, message.sender_id);
    announce(`${nameOf(message.sender_id)} in ${conversation.title}: ${message.content}`);
  }
  if (open && state.view && !state.view.messages.has(message.id)) timeline.showLive(message);
  else if (open) timeline.place(message);
  sidebar.renderList();
}

function changed(message) {
  const conversation = state.conversations.get(message.conversation_id);
  if (!conversation) return;
  if (conversation.preview && conversation.preview.id === message.id) {
    conversation.preview = message;
    sidebar.renderList();
  }
  if (state.view && state.view.messages.has(message.id)) timeline.place(message);
}

function onRead(frame) {
  const conversation = state.conversations.get(frame.conversation_id);
  if (!conversation) return;
  const before = conversation.reads.get(frame.user_id) || 0;
  if (frame.message_id > before) conversation.reads.set(frame.user_id, frame.message_id);
  if (frame.user_id === state.me.id && frame.message_id >= conversation.lastId) {
    conversation.unread = 0;
    sidebar.renderList();
  }
  if (conversation.id === state.currentId) timeline.renderSeen();
}

function sendRead(conversationId, messageId) {
  const conversation = state.conversations.get(conversationId);
  if (!conversation || messageId <= conversation.readSent) return;
  conversation.readSent = messageId;
  const frame = { type: "read", conversation_id: conversationId, message_id: messageId };
  if (!state.connection || !state.connection.send(frame)) {
    api("POST", `/api/conversations/${conversationId}/read`, { message_id: messageId }).catch(() => {});
  }
}

function onPresence(frame) {
  const conversation = state.conversations.get(frame.conversation_id);
  if (!conversation) return;
  if (frame.status === "online") conversation.online.add(frame.user_id);
  else conversation.online.delete(frame.user_id);
  if (conversation.id === state.currentId) sidebar.renderHeader();
}

async function onMembership(frame) {
  const id = frame.conversation_id;
  if (frame.user_id === state.me.id) {
    if (frame.type === "member_removed") forget(id, "You were removed from {title}");
    else if (!state.conversations.has(id)) {
      const fresh = await loadConversations().catch(() => []);
      fresh.forEach(join);
    }
    return;
  }
  if (id === state.currentId) sidebar.loadMembers(id).catch(() => {});
}

function onError(frame) {
  const ref = typeof frame.ref === "string" ? frame.ref : "";
  const entry = ref && state.outbox.get(ref);
  if (entry) {
    state.outbox.mark(ref, "failed");
    entry.reason = frame.message;
    timeline.placePending(entry);
    announce(`Not sent: ${frame.message}`);
    return;
  }
  if (ref.startsWith("join:") && frame.code === "not_found") {
    forget(Number(ref.slice(5)), "You are no longer in {title}");
  }
}

// ---- Typing

function onTyping(frame) {
  if (frame.user_id === state.me.id) return;
  const key = `${frame.conversation_id}:${frame.user_id}`;
  clearTimeout(typists.get(key));
  typists.set(key, setTimeout(() => stopTyping(frame.conversation_id, frame.user_id), TYPING_SHOWN_MS));
  renderTyping();
}

function stopTyping(conversationId, userId) {
  const key = `${conversationId}:${userId}`;
  if (!typists.has(key)) return;
  clearTimeout(typists.get(key));
  typists.delete(key);
  renderTyping();
}

function renderTyping() {
  const names = [];
  for (const key of typists.keys()) {
    const [conversationId, userId] = key.split(":").map(Number);
    if (conversationId === state.currentId) names.push(nameOf(userId));
  }
  $("typing").textContent = names.length === 0
    ? ""
    : names.length === 1
      ? `${names[0]} is typing…`
      : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]} are typing…`;
}

function typed() {
  autosize();
  if (editing || state.currentId === null || !$("content").value) return;
  if (Date.now() - lastTypingSent < TYPING_EVERY_MS) return;
  if (state.connection.send({ type: "typing", conversation_id: state.currentId })) lastTypingSent = Date.now();
}

// ---- Sending, editing

function sendEntry(entry) {
  state.connection.send({
    type: "message",
    conversation_id: entry.conversation_id,
    content: entry.content,
    client_msg_id: entry.client_msg_id,
    ref: entry.client_msg_id,
  });
}

function settle(clientId) {
  if (state.outbox.settle(clientId)) timeline.removePending(clientId);
}

function retry(entry) {
  state.outbox.mark(entry.client_msg_id, "pending");
  entry.reason = "";
  timeline.placePending(entry);
  sendEntry(entry);
}

function discard(entry) {
  settle(entry.client_msg_id);
}

async function submitMessage(event) {
  event.preventDefault();
  const content = $("content").value;
  if (!content.trim() || state.currentId === null) return;
  if (editing) {
    await saveEdit(content);
    return;
  }
  const entry = state.outbox.add(state.currentId, content);
  timeline.placePending(entry);
  timeline.scrollToBottom();
  sendEntry(entry);
  $("content").value = "";
  lastTypingSent = 0;
  autosize();
}

function startEdit(message) {
  if (editing) cancelEdit();
  editing = message;
  $("editing").hidden = false;
  $("send-button").textContent = "Save";
  $("content").value = message.content;
  const item = $("messages").querySelector(`li[data-id="${message.id}"]`);
  if (item) item.classList.add("editing");
  autosize();
  $("content").focus();
}

function cancelEdit() {
  const item = editing && $("messages").querySelector(`li[data-id="${editing.id}"]`);
  if (item) item.classList.remove("editing");
  editing = null;
  $("editing").hidden = true;
  $("send-button").textContent = "Send";
  $("content").value = "";
  autosize();
}

async function saveEdit(content) {
  const target = editing;
  if (content === target.content) {
    cancelEdit();
    return;
  }
  try {
    const { message } = await api("PUT", `/api/messages/${target.id}`, { content });
    cancelEdit();
    timeline.place(message);
  } catch (error) {
    announce(`Not saved: ${error.message}`);
  }
}

function editLast() {
  if (!state.view) return false;
  let last = null;
  for (const message of state.view.messages.values()) {
    if (message.sender_id === state.me.id && !message.deleted && (!last || message.id > last.id)) last = message;
  }
  if (last) startEdit(last);
  return last !== null;
}

function composerKeys(event) {
  if (event.isComposing) return;
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("send").requestSubmit();
  } else if (event.key === "Escape" && editing) {
    event.preventDefault();
    cancelEdit();
  } else if (event.key === "ArrowUp" && !editing && $("content").value === "") {
    if (editLast()) event.preventDefault();
  }
}

function autosize() {
  const box = $("content");
  box.style.height = "auto";
  box.style.height = `${box.scrollHeight}px`;
}

// ---- Wiring

timeline.hooks.edit = startEdit;
timeline.hooks.retry = retry;
timeline.hooks.discard = discard;
timeline.hooks.read = sendRead;
timeline.hooks.reopen = (id) => openConversation(id);
sidebar.hooks.open = (id) => openConversation(id);
search.hooks.open = openHit;
sidebar.hooks.leave = leave;

$("auth-form").addEventListener("submit", submitAuth);
$("auth-switch").addEventListener("click", () => setMode(mode === "login" ? "register" : "login"));
$("logout").addEventListener("click", logout);
$("new-conversation").addEventListener("submit", createConversation);
$("send").addEventListener("submit", submitMessage);
$("content").addEventListener("keydown", composerKeys);
$("content").addEventListener("input", typed);
$("cancel-edit").addEventListener("click", cancelEdit);
$("back").addEventListener("click", () => {
  const id = state.currentId;
  closeRoom();
  const item = id !== null && document.querySelector(`button[data-conversation="${id}"]`);
  if (item) item.focus();
});

if (localStorage.getItem(SIGNED_IN)) {
  api("GET", "/api/auth/me").then(
    ({ user }) => start(user),
    () => showSignedOut(),
  );
} else {
  setMode("login");
}
