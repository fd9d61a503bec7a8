// The one WebSocket to /ws. The session cookie authenticates it (same origin). Every
// socket gets a generation number; events of a socket that is no longer the current one
// (say the 4001 close of the previous user's socket after a quick sign-out and sign-in)
// are ignored. A dropped connection is retried with exponential backoff and jitter, and
// at once when the browser comes back online or the tab becomes visible.

const MAX_DELAY_MS = 30000;
const BASE_DELAY_MS = 500;

export class Connection {
  /**
   * handlers: onFrame(frame), onState(state, detail), onEnded(code) when the server ended
   * the credential (4001, 1008), onRefused() when a handshake failed before opening.
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.generation = 0;
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.running = false;
    this.ready = false;
    this.retryNow = () => {
      if (this.running && !this.socket && document.visibilityState === "visible") this.open();
    };
    window.addEventListener("online", this.retryNow);
    document.addEventListener("visibilitychange", this.retryNow);
  }

  start() {
    this.running = true;
    this.attempt = 0;
    this.open();
  }

  /** Closes the socket for good; nothing it does afterwards reaches the page. */
  stop() {
    window.removeEventListener("online", this.retryNow);
    document.removeEventListener("visibilitychange", this.retryNow);
    this.running = false;
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.socket) this.socket.close(1000);
    this.socket = null;
    this.ready = false;
  }

  /** Sends a frame if the socket is ready; whether it went. */
  send(frame) {
    if (!this.socket || !this.ready || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  open() {
    clearTimeout(this.timer);
    this.timer = null;
    const generation = ++this.generation;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws`, ["palaver.v1"]);
    this.socket = socket;
    this.ready = false;
    let opened = false;
    this.handlers.onState("connecting", this.attempt);
    socket.addEventListener("open", () => {
      if (generation === this.generation) opened = true;
    });
    socket.addEventListener("message", (event) => {
      if (generation !== this.generation) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "ready") {
        this.ready = true;
        this.attempt = 0;
        this.handlers.onState("online");
      }
      this.handlers.onFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      if (generation !== this.generation) return;
      this.socket = null;
      this.ready = false;
      if (!this.running) return;
      if (event.code === 4001 || event.code === 1008) {
        this.running = false;
        this.handlers.onEnded(event.code);
        return;
      }
      if (!opened) this.handlers.onRefused();
      this.schedule();
    });
  }

  schedule() {
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    this.attempt += 1;
    // Full jitter between half the ceiling and all of it, so clients do not return at once.
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.handlers.onState("offline", delay);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.running) this.open();
    }, delay);
  }
}
