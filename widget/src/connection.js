// The /ws/chat client: hello and resume with last_seq, an outbox that survives reloads
// and resends unacknowledged frames with the same client_id (the server stores a
// client_id once, so a resend never duplicates), reconnection with backoff.
//
// The conversation (id, token) and the outbox live in localStorage under one key per
// server. History is replayed from seq 0 on every page load (the page keeps nothing
// else), and from the last seen seq on a reconnect.

const BACKOFF = [500, 1000, 2000, 4000, 8000];
// Close codes the server chooses: 1000 after the idle timeout (reconnect when the customer
// acts, not before), 4429 when this client sent too much (wait before coming back).
const IDLE = 1000;
const TOO_MANY_REQUESTS = 4429;
const SLOW_DOWN_MS = 30000;
// Resends of one frame, on new connections in a row each closed by a server error
// (1011, 1013) with no answer at all (no ack, no error): past this the frame is given
// up, not sent again on every reconnect. A server that fails on a frame must not make
// the widget loop on it; a network drop or a restart (1006, 1001, 1012) never counts,
// so a slow or flaky connection loses nothing.
const MAX_UNANSWERED = 5;
const SERVER_ERRORS = new Set([1011, 1013]);

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class Connection {
  constructor(server, onFrame, onStatus) {
    this.server = server.replace(/\/$/, "");
    this.key = `supportbot:${this.server}`;
    this.onFrame = onFrame;
    this.onStatus = onStatus; // "connecting" | "online" | "offline"
    this.ws = null;
    this.lastSeq = 0; // every event up to here has arrived: the resume point
    this.ahead = new Set(); // events that arrived past a gap
    this.refused = new Set(); // client_ids the server asked to send again later
    this.unanswered = new Map(); // client_id -> resends in a row that got no answer
    this.retryTimer = 0;
    this.attempt = 0;
    this.timer = 0;
    this.stopped = false;
    this.saved = this.load();
    this.saved.outbox ||= [];
    addEventListener("online", () => this.connectSoon(0));
    addEventListener("offline", () => this.ws && this.ws.close());
  }

  load() {
    try {
      return JSON.parse(localStorage.getItem(this.key) || "{}");
    } catch {
      return {};
    }
  }

  save() {
    try {
      localStorage.setItem(this.key, JSON.stringify(this.saved));
    } catch {
      /* storage full or blocked: the conversation still works until reload */
    }
  }

  get token() {
    return this.saved.token;
  }

  get hasConversation() {
    return Boolean(this.saved.conversation_id);
  }

  get pending() {
    return this.saved.outbox;
  }

  start() {
    this.stopped = false;
    if (!this.ws) this.connect();
  }

  connect() {
    clearTimeout(this.timer);
    this.onStatus(navigator.onLine === false ? "offline" : "connecting");
    const url = this.server.replace(/^http/, "ws") + "/ws/chat";
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.connectSoon();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const hello = { type: "hello", last_seq: this.lastSeq };
      if (this.saved.conversation_id) {
        hello.conversation_id = this.saved.conversation_id;
        hello.token = this.saved.token;
      }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(frame);
    };
    ws.onclose = (event) => {
      if (this.ws === ws) this.ws = null;
      if (!SERVER_ERRORS.has(event.code)) this.unanswered.clear();
      if (event.code === 1008) {
        // Unknown conversation or wrong token: start a new one, keep what was unsent.
        delete this.saved.conversation_id;
        delete this.saved.token;
        this.lastSeq = 0;
        this.ahead.clear();
        this.save();
        this.onFrame({ type: "reset" });
      }
      if (event.code === IDLE) {
        // Closed for being idle: nothing is lost; the next send or a reload reconnects.
        this.stopped = true;
        this.onStatus("online");
        return;
      }
      this.onStatus(navigator.onLine === false ? "offline" : "connecting");
      if (!this.stopped) this.connectSoon(event.code === TOO_MANY_REQUESTS ? SLOW_DOWN_MS : undefined);
    };
  }

  connectSoon(delay) {
    clearTimeout(this.timer);
    const wait = delay ?? BACKOFF[Math.min(this.attempt++, BACKOFF.length - 1)];
    this.timer = setTimeout(() => !this.ws && this.connect(), wait);
  }

  // The resume point only moves over events that all arrived: an ack (or a live frame)
  // can overtake an earlier event still on its way, and resuming past that event would
  // skip it for good. A replay that repeats an event is harmless (messages are keyed by id).
  noteSeq(seq) {
    if (seq <= this.lastSeq) return;
    this.ahead.add(seq);
    while (this.ahead.delete(this.lastSeq + 1)) this.lastSeq += 1;
  }

  receive(frame) {
    if (typeof frame.seq === "number") this.noteSeq(frame.seq);
    if (frame.type === "welcome") {
      this.attempt = 0;
      this.saved.conversation_id = frame.conversation_id;
      this.saved.token = frame.token;
      this.save();
      this.onStatus("online");
      for (const f of [...this.saved.outbox]) this.resend(f);
    } else if (frame.type === "ack") {
      this.settle(frame.client_id);
    } else if (frame.type === "message" && frame.message && frame.message.client_id) {
      this.settle(frame.message.client_id); // stored, even if its ack was lost
    }
    this.onFrame(frame);
  }

  // The server asked to wait (rate limit, database away): the frame stays in the outbox
  // and goes again.
  // One timer for every refused frame: they go again together, in the order they were
  // written (separate timers could let a later message overtake an earlier one).
  retryLater(clientId, seconds) {
    this.unanswered.delete(clientId); // answered: it goes again, however often
    this.refused.add(clientId);
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = 0;
      const again = this.saved.outbox.filter((f) => this.refused.has(f.client_id));
      this.refused.clear();
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return; // the outbox goes on reconnect
      for (const frame of again) this.ws.send(JSON.stringify(frame));
    }, Math.max(1, seconds || 1) * 1000);
  }

  resend(frame) {
    const tries = (this.unanswered.get(frame.client_id) || 0) + 1;
    if (tries > MAX_UNANSWERED) {
      this.settle(frame.client_id);
      this.onFrame({ type: "error", code: "not_sent", client_id: frame.client_id });
      return;
    }
    this.unanswered.set(frame.client_id, tries);
    this.ws.send(JSON.stringify(frame));
  }

  settle(clientId) {
    this.unanswered.delete(clientId);
    const before = this.saved.outbox.length;
    this.saved.outbox = this.saved.outbox.filter((f) => f.client_id !== clientId);
    if (this.saved.outbox.length !== before) this.save();
  }

  // Frames with a client_id go through the outbox; others are sent when connected.
  send(frame) {
    if (frame.client_id) {
      this.saved.outbox.push(frame);
      this.save();
    }
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.saved.token) {
      this.ws.send(JSON.stringify(frame));
    } else {
      this.start();
    }
  }

  sendTransient(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.saved.token) {
      this.ws.send(JSON.stringify(frame));
    }
  }
}
