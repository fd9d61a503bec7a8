// Building the page's pieces with DOM calls: every user-supplied string goes in as text,
// and a URL in a message becomes a link made with createElement, never parsed HTML.

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** An element with a class and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A button with a label. */
export function button(label, className, onClick) {
  const node = el("button", className, label);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

/** `text` as text nodes, with its http(s) URLs as links that open apart from the page. */
export function linkified(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let url = match[0];
    const trailing = url.match(TRAILING);
    if (trailing) url = url.slice(0, url.length - trailing[0].length);
    if (!url) continue;
    if (match.index > last) fragment.append(document.createTextNode(text.slice(last, match.index)));
    const link = document.createElement("a");
    link.href = url;
    link.textContent = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    fragment.append(link);
    last = match.index + url.length;
  }
  if (last < text.length) fragment.append(document.createTextNode(text.slice(last)));
  return fragment;
}

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dateAndTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

/** A <time> in the reader's locale: the time today, the date and time otherwise. */
export function timeElement(iso) {
  const when = parseTime(iso);
  const node = el("time", "when");
  if (Number.isNaN(when.getTime())) return node;
  node.dateTime = when.toISOString();
  const today = new Date().toDateString() === when.toDateString();
  node.textContent = (today ? timeOnly : dateAndTime).format(when);
  node.title = full.format(when);
  return node;
}

/** A server time; one without a zone is UTC. */
export function parseTime(iso) {
  const zoned = /(?:[zZ]|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`;
  return new Date(zoned);
}
