// Message search: the box in the top bar (`/` or Ctrl+K reaches it from anywhere but a
// text field), a list of hits with their conversation and the matched words marked, and
// "More results" paging older hits. The server says where the words matched, as
// character offsets; the page marks them with <mark> elements around text nodes, so
// nothing anyone typed is ever parsed as HTML. Choosing a hit opens its conversation at
// that message.

import { api } from "./api.js";
import { $, state, nameOf } from "./state.js";
import { el, timeElement } from "./render.js";

const PAGE = 20;
const TYPING_PAUSE_MS = 250;
/** At most this many conversations are asked for their members' names per page of hits. */
const MAX_MEMBER_LOOKUPS = 5;

/** Handlers the results call back into (set by app.js). */
export const hooks = {
  open: () => {},
};

/** The search shown: its query, the id to page before, and whether more lie beyond. */
let current = { q: "", before: null, hasMore: false, generation: 0 };
let timer = null;

/** Shows or hides the search box, as the user signs in or out. */
export function enable(on) {
  $("search").hidden = !on;
  if (!on) close();
}

/** Hides the results and forgets the query. */
export function close() {
  clearTimeout(timer);
  current = { q: "", before: null, hasMore: false, generation: current.generation + 1 };
  $("search-results").hidden = true;
  $("search-list").replaceChildren();
  $("search-status").textContent = "";
  $("search-more").hidden = true;
}

/** Runs the query in the box from its first page. */
async function run() {
  const q = $("search-input").value.trim();
  if (!q) {
    close();
    return;
  }
  current = { q, before: null, hasMore: false, generation: current.generation + 1 };
  $("search-list").replaceChildren();
  await fetchPage();
}

/** The next page of the current query, appended to the list. */
async function fetchPage() {
  const asked = current;
  const panel = $("search-results");
  panel.hidden = false;
  $("search-status").textContent = "Searching…";
  $("search-more").hidden = true;
  let path = `/api/search?q=${encodeURIComponent(asked.q)}&limit=${PAGE}`;
  if (asked.before !== null) path += `&before=${asked.before}`;
  try {
    const { results, has_more: hasMore } = await api("GET", path);
    if (asked.generation !== current.generation) return;
    $("search-list").append(...results.map(resultItem));
    learnNames(results);
    if (results.length) current.before = results[results.length - 1].message.id;
    current.hasMore = hasMore;
    const shown = $("search-list").children.length;
    $("search-status").textContent = shown
      ? `${shown} ${shown === 1 ? "message" : "messages"}${hasMore ? " so far" : ""}`
      : "No messages match.";
    $("search-more").hidden = !hasMore;
  } catch (error) {
    if (asked.generation !== current.generation) return;
    $("search-status").textContent = error.message;
  }
}

/** Senders not known yet are named once their conversations' members are loaded. */
async function learnNames(results) {
  const unknown = results.filter((r) => !state.names.has(r.message.sender_id) && r.message.sender_id !== state.me.id);
  const conversations = [...new Set(unknown.map((r) => r.conversation_id))].slice(0, MAX_MEMBER_LOOKUPS);
  await Promise.all(conversations.map(async (id) => {
    try {
      const { conversation } = await api("GET", `/api/conversations/${id}`);
      for (const member of conversation.members || []) {
        state.names.set(member.user.id, member.user.display_name || member.user.username);
      }
    } catch {
      // A name is a nicety; the hit still shows "user N".
    }
  }));
  for (const node of $("search-list").querySelectorAll(".sender[data-user]")) {
    node.textContent = nameOf(Number(node.dataset.user));
  }
}

function resultItem(result) {
  const message = result.message;
  const item = el("li");
  item.dataset.id = String(message.id);
  const choose = el("button", "result");
  choose.type = "button";
  choose.dataset.conversation = String(result.conversation_id);
  const meta = el("span", "meta");
  const sender = message.sender_id === (state.me && state.me.id) ? "You" : nameOf(message.sender_id);
  const senderNode = el("span", "sender", sender);
  if (sender !== "You") senderNode.dataset.user = String(message.sender_id);
  meta.append(el("span", "title", result.conversation_title), senderNode, timeElement(message.created_at));
  const body = el("span", "body");
  body.append(highlighted(message.content, result.matches));
  choose.append(meta, body);
  choose.addEventListener("click", () => {
    close();
    $("search-input").value = "";
    hooks.open(result.conversation_id, message.id);
  });
  item.append(choose);
  return item;
}

/** `content` as text nodes, with each matched range (code point offsets) in a <mark>. */
export function highlighted(content, matches) {
  const chars = Array.from(content);
  const fragment = document.createDocumentFragment();
  let at = 0;
  for (const { start, end } of matches) {
    if (start < at || end <= start || end > chars.length) continue;
    if (start > at) fragment.append(document.createTextNode(chars.slice(at, start).join("")));
    const mark = document.createElement("mark");
    mark.textContent = chars.slice(start, end).join("");
    fragment.append(mark);
    at = end;
  }
  if (at < chars.length) fragment.append(document.createTextNode(chars.slice(at).join("")));
  return fragment;
}

/** Whether a key press lands in something one types into. */
function typingInto(target) {
  if (!target || !(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function shortcut(event) {
  if ($("search").hidden || event.isComposing) return;
  const ctrlK = (event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k";
  const slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typingInto(event.target);
  if (ctrlK || slash) {
    event.preventDefault();
    $("search-input").focus();
    $("search-input").select();
  }
}

function boxKeys(event) {
  if (event.key === "Escape") {
    event.preventDefault();
    $("search-input").value = "";
    close();
    $("search-input").blur();
  } else if (event.key === "ArrowDown") {
    const first = $("search-list").querySelector("button.result");
    if (first) {
      event.preventDefault();
      first.focus();
    }
  }
}

function listKeys(event) {
  const item = event.target.closest("li");
  if (!item) return;
  if (event.key === "ArrowDown" && item.nextElementSibling) {
    event.preventDefault();
    item.nextElementSibling.querySelector("button").focus();
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    const previous = item.previousElementSibling;
    (previous ? previous.querySelector("button") : $("search-input")).focus();
  } else if (event.key === "Escape") {
    event.preventDefault();
    close();
    $("search-input").focus();
  }
}

$("search").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(timer);
  run();
});
$("search-input").addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(run, TYPING_PAUSE_MS);
});
$("search-input").addEventListener("keydown", boxKeys);
$("search-list").addEventListener("keydown", listKeys);
$("search-more").addEventListener("click", () => {
  if (current.hasMore) fetchPage();
});
document.addEventListener("keydown", shortcut);
document.addEventListener("click", (event) => {
  if (!$("search-results").hidden && !event.target.closest("#search, #search-results")) close();
});
