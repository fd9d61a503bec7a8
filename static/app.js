// The bundled chat page. It talks to the same server it came from: the login cookie
// authenticates both the HTTP calls and the WebSocket handshake, so no token is kept in
// the page. Everything a user typed is put on the page as text, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { user: null, socket: null, current: null, names: new Map(), conversations: [], retry: 0 };

async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(data && data.error ? data.error.message : `HTTP ${response.status}`);
  }
  return data;
}

async function authenticate(kind) {
  $("auth-error").textContent = "";
  const body = { username: $("username").value, password: $("password").value };
  try {
    const answer = await api("POST", `/api/auth/${kind}`, body);
    await start(answer.user);
  } catch (error) {
    $("auth-error").textContent = error.message;
  }
}

async function start(user) {
  state.user = user;
  state.names.set(user.id, user.display_name);
  $("whoami").textContent = user.display_name;
  $("logout").hidden = false;
  $("auth").hidden = true;
  $("chat").hidden = false;
  await loadConversations();
  connect();
}

async function loadConversations() {
  const { conversations } = await api("GET", "/api/conversations");
  state.conversations = conversations;
  const list = $("conversations");
  list.replaceChildren();
  for (const conversation of conversations) {
    const item = document.createElement("li");
    item.textContent = conversation.title;
    item.classList.toggle("active", conversation.id === state.current);
    if (conversation.unread_count > 0 && conversation.id !== state.current) {
      const badge = document.createElement("span");
      badge.className = "unread";
      badge.textContent = String(conversation.unread_count);
      item.append(badge);
    }
    item.addEventListener("click", () => open(conversation));
    list.append(item);
  }
}

async function open(conversation) {
  state.current = conversation.id;
  $("room-title").textContent = conversation.title;
  $("send").hidden = false;
  const [{ conversation: details }, { messages }] = await Promise.all([
    api("GET", `/api/conversations/${conversation.id}`),
    api("GET", `/api/messages?conversation_id=${conversation.id}&limit=50`),
  ]);
  for (const member of details.members) state.names.set(member.user.id, member.user.display_name);
  $("messages").replaceChildren();
  messages.forEach(show);
  markRead(messages);
  await loadConversations();
}

function show(message) {
  if (message.conversation_id !== state.current) return;
  const existing = document.querySelector(`[data-id="${message.id}"]`);
  const item = existing || document.createElement("li");
  item.dataset.id = String(message.id);
  const sender = document.createElement("span");
  sender.className = "sender";
  sender.textContent = state.names.get(message.sender_id) || `user ${message.sender_id}`;
  const text = document.createElement("span");
  text.textContent = message.deleted ? "message deleted" : message.content;
  text.className = message.deleted ? "deleted" : "";
  item.replaceChildren(sender, text);
  if (!existing) $("messages").append(item);
  item.scrollIntoView({ block: "end" });
}

function markRead(messages) {
  const last = messages[messages.length - 1];
  if (last) api("POST", `/api/conversations/${last.conversation_id}/read`, { message_id: last.id }).catch(() => {});
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`, ["palaver.v1"]);
  state.socket = socket;
  socket.addEventListener("message", (event) => receive(JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    $("status").textContent = `disconnected (${event.code})`;
    if (event.code === 4001 || event.code === 1008) return signedOut();
    const delay = Math.min(30000, 1000 * 2 ** state.retry++);
    setTimeout(() => state.user && connect(), delay);
  });
}

function receive(frame) {
  switch (frame.type) {
    case "ready":
      state.retry = 0;
      $("status").textContent = "connected";
      for (const conversation of state.conversations) {
        state.socket.send(JSON.stringify({ type: "join", conversation_id: conversation.id }));
      }
      break;
    case "ack":
    case "message":
    case "message_edited":
    case "message_deleted":
      show(frame.message);
      if (frame.type === "message" && frame.message.conversation_id === state.current) markRead([frame.message]);
      else if (frame.type === "message") loadConversations();
      break;
    case "typing":
      if (frame.conversation_id === state.current) {
        $("typing").textContent = `${state.names.get(frame.user_id) || "someone"} is typing…`;
        setTimeout(() => ($("typing").textContent = ""), 3000);
      }
      break;
    case "member_added":
    case "member_removed":
      loadConversations().then(() => {
        if (frame.type === "member_added" && frame.user_id === state.user.id) {
          state.socket.send(JSON.stringify({ type: "join", conversation_id: frame.conversation_id }));
        }
      });
      break;
    case "error":
      $("status").textContent = frame.message;
      break;
    default:
      break;
  }
}

function signedOut() {
  state.user = null;
  state.current = null;
  $("logout").hidden = true;
  $("whoami").textContent = "";
  $("chat").hidden = true;
  $("auth").hidden = false;
}

function send(event) {
  event.preventDefault();
  const content = $("content").value;
  if (!content.trim() || !state.socket || state.current === null) return;
  state.socket.send(JSON.stringify({
    type: "message",
    conversation_id: state.current,
    content,
    client_msg_id: crypto.randomUUID ? crypto.randomUUID() : String(Date.now() + Math.random()),
  }));
  $("content").value = "";
}

let lastTyping = 0;
function typing() {
  if (!state.socket || state.current === null || Date.now() - lastTyping < 2000) return;
  lastTyping = Date.now();
  state.socket.send(JSON.stringify({ type: "typing", conversation_id: state.current }));
}

async function createConversation(event) {
  event.preventDefault();
  const members = $("new-members").value.split(",").map((m) => m.trim()).filter(Boolean);
  try {
    const { conversation } = await api("POST", "/api/conversations", { title: $("new-title").value, members });
    $("new-title").value = "";
    $("new-members").value = "";
    await loadConversations();
    state.socket.send(JSON.stringify({ type: "join", conversation_id: conversation.id }));
    await open(conversation);
  } catch (error) {
    $("status").textContent = error.message;
  }
}

async function logout() {
  await api("POST", "/api/auth/logout").catch(() => {});
  if (state.socket) state.socket.close(1000);
  signedOut();
}

$("auth-form").addEventListener("submit", (event) => {
  event.preventDefault();
  authenticate("login");
});
$("register").addEventListener("click", () => authenticate("register"));
$("send").addEventListener("submit", send);
$("content").addEventListener("input", typing);
$("new-conversation").addEventListener("submit", createConversation);
$("logout").addEventListener("click", logout);

api("GET", "/api/auth/me").then(({ user }) => start(user), () => signedOut());
