// The conversation list (newest activity first, with unread counts) and the open
// conversation's header and members panel: presence dots, adding and removing members,
// leaving.

import { api } from "./api.js";
import { $, state, nameOf } from "./state.js";
import { el, button } from "./render.js";

/** Handlers the list calls back into (set by app.js). */
export const hooks = {
  open: () => {},
  leave: () => {},
};

let listQueued = false;

/** Redraws the list at the next frame, once however many changes came in. */
export function renderList() {
  if (listQueued) return;
  listQueued = true;
  requestAnimationFrame(() => {
    listQueued = false;
    drawList();
  });
}

function drawList() {
  const node = $("conversations");
  const focused = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.conversation
    : undefined;
  const sorted = [...state.conversations.values()].sort((a, b) => b.activity - a.activity || b.id - a.id);
  const items = sorted.map((conversation) => {
    const item = el("li");
    const open = button("", "", () => hooks.open(conversation.id));
    open.dataset.conversation = String(conversation.id);
    const current = conversation.id === state.currentId;
    open.setAttribute("aria-current", current ? "true" : "false");
    open.append(el("span", "title", conversation.title));
    const unread = current ? 0 : conversation.unread;
    if (unread > 0) {
      const badge = el("span", "unread", String(unread));
      badge.setAttribute("aria-label", `${unread} unread`);
      open.append(badge);
    }
    open.append(el("span", "preview", previewOf(conversation)));
    item.append(open);
    return item;
  });
  node.replaceChildren(...items);
  $("no-conversations").hidden = items.length > 0;
  if (focused) {
    const again = node.querySelector(`button[data-conversation="${focused}"]`);
    if (again) again.focus();
  }
}

function previewOf(conversation) {
  const last = conversation.preview;
  if (!last) return "No messages yet";
  const who = last.sender_id === state.me.id ? "You" : nameOf(last.sender_id);
  return `${who}: ${last.deleted ? "message deleted" : last.content}`;
}

/** Title, member count and who is online, above the open conversation. */
export function renderHeader() {
  const conversation = state.conversations.get(state.currentId);
  if (!conversation) {
    $("room-title").textContent = "Pick a conversation";
    $("room-subtitle").textContent = "";
    $("members-toggle").hidden = true;
    return;
  }
  $("room-title").textContent = conversation.title;
  $("members-toggle").hidden = false;
  const members = conversation.members ? conversation.members.size : 0;
  const online = [...conversation.online].filter((id) => id !== state.me.id).length;
  $("room-subtitle").textContent = members
    ? `${members} ${members === 1 ? "member" : "members"} · ${online} other${online === 1 ? "" : "s"} online`
    : "";
  $("members-toggle").textContent = members ? `Members (${members})` : "Members";
  renderMembers();
}

/** Loads the open conversation's members. */
export async function loadMembers(id) {
  const { conversation: details } = await api("GET", `/api/conversations/${id}`);
  const conversation = state.conversations.get(id);
  if (!conversation) return;
  conversation.title = details.title;
  conversation.owner_id = details.owner_id;
  conversation.members = new Map();
  for (const member of details.members || []) {
    conversation.members.set(member.user.id, member);
    state.names.set(member.user.id, member.user.display_name || member.user.username);
  }
  if (id === state.currentId) renderHeader();
}

function renderMembers() {
  const conversation = state.conversations.get(state.currentId);
  if (!conversation || !conversation.members) return;
  const owner = conversation.owner_id === state.me.id;
  const items = [...conversation.members.values()].map((member) => {
    const id = member.user.id;
    const item = el("li");
    item.dataset.user = String(id);
    const online = id === state.me.id || conversation.online.has(id);
    const dot = el("span", online ? "dot online" : "dot");
    dot.setAttribute("role", "img");
    dot.setAttribute("aria-label", online ? "online" : "offline");
    const name = el("span", "name", id === state.me.id ? `${nameOf(id)} (you)` : nameOf(id));
    item.append(dot, name, el("span", "role", member.role === "owner" ? "owner" : ""));
    if (owner && id !== state.me.id) {
      const remove = button("Remove", "danger remove", () => removeMember(conversation.id, id));
      remove.setAttribute("aria-label", `Remove ${nameOf(id)}`);
      item.append(remove);
    }
    return item;
  });
  $("members").replaceChildren(...items);
  $("add-member").hidden = !owner;
  $("leave").hidden = owner;
}

async function removeMember(conversationId, userId) {
  $("members-error").textContent = "";
  try {
    await api("DELETE", `/api/conversations/${conversationId}/members/${userId}`);
    await loadMembers(conversationId);
  } catch (error) {
    $("members-error").textContent = error.message;
  }
}

async function addMember(event) {
  event.preventDefault();
  $("members-error").textContent = "";
  const username = $("add-username").value.trim();
  if (!username || state.currentId === null) return;
  try {
    await api("POST", `/api/conversations/${state.currentId}/members`, { username });
    $("add-username").value = "";
    await loadMembers(state.currentId);
  } catch (error) {
    $("members-error").textContent = error.message;
  }
}

let searchTimer = null;
function suggestUsers() {
  clearTimeout(searchTimer);
  const query = $("add-username").value.trim();
  if (!query) return;
  searchTimer = setTimeout(async () => {
    try {
      const { users } = await api("GET", `/api/users?query=${encodeURIComponent(query)}`);
      const options = users.map((user) => {
        const option = document.createElement("option");
        option.value = user.username;
        option.label = user.display_name || user.username;
        return option;
      });
      $("user-suggestions").replaceChildren(...options);
    } catch {
      // Suggestions are a convenience; typing the full name still works.
    }
  }, 200);
}

function toggleMembers() {
  const panel = $("members-panel");
  panel.hidden = !panel.hidden;
  $("members-toggle").setAttribute("aria-expanded", String(!panel.hidden));
}

$("members-toggle").addEventListener("click", toggleMembers);
$("add-member").addEventListener("submit", addMember);
$("add-username").addEventListener("input", suggestUsers);
$("leave").addEventListener("click", () => hooks.leave(state.currentId));
