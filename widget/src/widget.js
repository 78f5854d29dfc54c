// <support-chat>: the launcher, the panel and the composer, in a shadow root.
import { Connection, uuid } from "./connection.js";
import { pickLocale } from "./i18n.js";
import { record, upload, extensionFor } from "./media.js";
import { contactCard, ratingCard } from "./cards.js";
import { CSS } from "./styles.js";
import { Log, el } from "./view.js";

const ICONS = {
  chat: "M4 4h16v11H7l-3 3V4zm2 2v7.2L6.2 13H18V6H6z",
  close: "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4L12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z",
  clip: "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z",
  mic: "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1A7 7 0 0 0 19 11h-2z",
};
const svg = (d) => {
  const ns = "http://www.w3.org/2000/svg";
  const s = document.createElementNS(ns, "svg");
  s.setAttribute("viewBox", "0 0 24 24");
  s.setAttribute("aria-hidden", "true");
  const p = document.createElementNS(ns, "path");
  p.setAttribute("d", d);
  s.append(p);
  return s;
};
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];

export class SupportChat extends HTMLElement {
  static defaultServer = location.origin;

  connectedCallback() {
    if (this.shadowRoot) return;
    const d = this.dataset;
    this.t = pickLocale(d.locale);
    this.server = (d.server || SupportChat.defaultServer).replace(/\/$/, "");
    this.maxVoice = Number(d.maxVoiceSeconds) || 120;
    if (d.color) this.style.setProperty("--sc-accent", d.color);
    this.unread = 0;
    this.replayUntil = 0;
    this.attachments = []; // {id?, name, preview, chip, job}
    this.cards = { contact: null, rating: null }; // open cards asking for an email, a rating
    const root = this.attachShadow({ mode: "open" });
    // A constructed stylesheet works under a host page's strict style-src CSP; a <style>
    // element is the fallback for browsers without adoptedStyleSheets.
    if ("adoptedStyleSheets" in root && window.CSSStyleSheet?.prototype.replaceSync) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(el("style", { text: CSS }));
    }
    root.append(...this.build());
    this.files = new Map(); // upload id -> object URL of the cleaned file
    this.log = new Log(
      this.$log,
      this.t,
      d.helpUrl,
      (id, rating) => this.conn.sendTransient({ type: "feedback", message_id: id, rating }),
      (id) => this.fetchUpload(id),
    );
    this.greet();
    this.conn = new Connection(this.server, (f) => this.onFrame(f), (s) => this.onStatus(s));
    for (const frame of this.conn.pending) if (frame.type === "message") this.log.pending(frame);
    if (this.conn.hasConversation || d.open !== undefined) this.conn.start();
    if (d.open !== undefined) this.open();
  }

  build() {
    const t = this.t;
    this.$badge = el("span", { class: "badge", hidden: true, "aria-hidden": "true" });
    this.$launcher = el(
      "button",
      { class: "launcher", type: "button", "aria-label": t.open, "aria-expanded": "false", "aria-controls": "panel", onclick: () => this.toggle() },
      svg(ICONS.chat),
      this.$badge,
    );
    const avatar = this.dataset.avatar && /^(https:|data:image\/)/.test(this.dataset.avatar)
      ? el("img", { src: this.dataset.avatar, alt: "" })
      : "";
    this.$status = el("div", { class: "status", role: "status", hidden: true });
    this.$queue = el("div", { class: "queue", role: "status", hidden: true });
    this.$log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": this.dataset.title || t.title, tabindex: "0" });
    this.$typing = el("div", { class: "typing", "aria-live": "polite" });
    this.$tray = el("div", { class: "tray" });
    this.$level = el("span");
    this.$clock = el("span", { text: "0:00" });
    this.$recorder = el(
      "div",
      { class: "recorder", hidden: true, role: "group", "aria-label": t.record },
      el("div", { class: "level", role: "meter", "aria-label": t.record, "aria-valuemin": "0", "aria-valuemax": "100" }, this.$level),
      this.$clock,
      el("button", { type: "button", class: "tool", text: t.stopRecording, onclick: () => this.recording && this.recording.stop() }),
      el("button", { type: "button", class: "tool", text: t.cancel, onclick: () => this.recording && this.recording.cancel() }),
    );
    this.$file = el("input", { type: "file", accept: IMAGE_TYPES.join(","), hidden: true, onchange: (e) => {
      for (const f of e.target.files) this.attach(f, f.name);
      e.target.value = "";
    } });
    this.$text = el("textarea", { id: "text", rows: "1", placeholder: t.placeholder, maxlength: "4000", onkeydown: (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        this.submit();
      }
    }, oninput: () => this.typing(), onpaste: (e) => {
      const files = [...(e.clipboardData?.files || [])].filter((f) => IMAGE_TYPES.includes(f.type));
      for (const f of files) this.attach(f, f.name || "pasted.png");
      if (files.length) e.preventDefault();
    } });
    this.$send = el("button", { type: "submit", class: "send", text: t.send });
    const form = el(
      "form",
      { onsubmit: (e) => (e.preventDefault(), this.submit()) },
      el("button", { type: "button", class: "tool", "aria-label": t.attach, title: t.attach, onclick: () => this.$file.click() }, svg(ICONS.clip)),
      el("button", { type: "button", class: "tool", "aria-label": t.record, title: t.record, onclick: () => this.startRecording() }, svg(ICONS.mic)),
      el("label", { class: "sr", for: "text", text: t.placeholder }),
      this.$text,
      this.$file,
      this.$send,
    );
    this.$drop = el("div", { class: "drop", hidden: true, text: t.dropHere });
    this.$panel = el(
      "div",
      { class: "panel", id: "panel", role: "dialog", "aria-modal": "true", "aria-labelledby": "title", hidden: true, dir: t.rtl ? "rtl" : "ltr", onkeydown: (e) => this.trap(e) },
      el("header", {}, avatar, el("h2", { id: "title", text: this.dataset.title || t.title }),
        el("button", { type: "button", class: "icon", "aria-label": t.close, onclick: () => this.close() }, svg(ICONS.close))),
      this.$status,
      this.$queue,
      this.$log,
      this.$typing,
      el("button", { type: "button", class: "human", text: t.human, onclick: () => this.conn.send({ type: "human", client_id: uuid() }) }),
      this.$tray,
      this.$recorder,
      form,
      this.$drop,
    );
    this.$panel.addEventListener("dragover", (e) => (e.preventDefault(), (this.$drop.hidden = false)));
    this.$panel.addEventListener("dragleave", () => (this.$drop.hidden = true));
    this.$panel.addEventListener("drop", (e) => {
      e.preventDefault();
      this.$drop.hidden = true;
      for (const f of e.dataTransfer.files) this.attach(f, f.name);
    });
    return [this.$launcher, this.$panel];
  }

  greet() {
    const greeting = this.dataset.greeting || this.t.greeting;
    this.$log.append(el("div", { class: "msg bot", text: greeting }));
  }

  // -- opening, closing, focus ---------------------------------------------------------

  toggle() {
    this.$panel.hidden ? this.open() : this.close();
  }

  open() {
    this.$panel.hidden = false;
    this.$launcher.setAttribute("aria-expanded", "true");
    this.$launcher.setAttribute("aria-label", this.t.close);
    this.unread = 0;
    this.$badge.hidden = true;
    this.conn.start();
    this.$text.focus();
    this.log.scroll();
  }

  close() {
    this.$panel.hidden = true;
    this.$launcher.setAttribute("aria-expanded", "false");
    this.$launcher.setAttribute("aria-label", this.t.open);
    this.$launcher.focus();
  }

  trap(e) {
    if (e.key === "Escape") return this.close();
    if (e.key !== "Tab") return;
    const items = [...this.$panel.querySelectorAll("button, textarea, a[href], [tabindex='0']")].filter(
      (n) => !n.hidden && !n.closest("[hidden]") && !n.disabled,
    );
    const first = items[0];
    const last = items[items.length - 1];
    const active = this.shadowRoot.activeElement;
    if (e.shiftKey && active === first) (e.preventDefault(), last.focus());
    else if (!e.shiftKey && active === last) (e.preventDefault(), first.focus());
  }

  // -- frames from the server ------------------------------------------------------------

  onFrame(f) {
    const live = typeof f.seq === "number" && f.seq > this.replayUntil;
    switch (f.type) {
      case "welcome":
        this.replayUntil = f.last_seq; // events up to here are history, not news
        this.dataset.state = f.state;
        this.welcomed = true;
        this.resolveWelcome?.();
        this.resolveWelcome = null;
        break;
      case "reset":
        this.log.clear();
        this.greet();
        break;
      case "message": {
        if (String(f.message.client_id || "").startsWith("contact:")) {
          this.contactLeft = true; // the server has the email: no need to ask again
          this.dropCard("contact");
        }
        const added = this.log.message(f.message);
        this.$typing.textContent = "";
        if (added && live && f.message.role !== "customer" && this.$panel.hidden) {
          this.unread += 1;
          this.$badge.textContent = String(this.unread);
          this.$badge.hidden = false;
          this.$launcher.setAttribute("aria-label", `${this.t.open} (${this.t.unread(this.unread)})`);
        }
        break;
      }
      case "delta":
        this.$typing.textContent = "";
        this.log.delta(f.message_id, f.text);
        break;
      case "retract":
        this.log.retract(f.message_id);
        break;
      case "state":
        this.state(f, live);
        break;
      case "position":
        this.queuePlace = f.position;
        if (this.lastState === "queued") this.showQueue();
        break;
      case "ack":
        if (this.cards.rating?.clientId === f.client_id) {
          this.conn.saved.rated = this.cards.rating.seq; // not asked again after a reload
          this.conn.save();
          this.cards.rating.done();
          this.cards.rating = null;
        }
        break;
      case "typing":
        this.$typing.textContent = this.t.typing(f.role);
        clearTimeout(this.typingTimer);
        this.typingTimer = setTimeout(() => (this.$typing.textContent = ""), 6000);
        break;
      case "error":
        if ((f.code === "rate_limited" || f.code === "unavailable") && f.client_id) {
          this.conn.retryLater(f.client_id, f.retry_after); // kept, sent again shortly
        } else if (f.client_id) {
          this.conn.settle(f.client_id); // refused for good: do not resend it
          for (const card of Object.values(this.cards)) if (card?.clientId === f.client_id) card.retry();
          this.log.failed(f.client_id);
        }
        this.log.system(f.message || this.t.notSentHelp);
        break;
    }
  }

  state(f, announce) {
    const t = this.t;
    const text = {
      queued: f.position ? t.queuedAt(f.position) : t.queued,
      agent: t.agentJoined((f.agent && f.agent.name) || ""),
      closed: t.closed,
      bot: this.lastState && this.lastState !== "bot" ? t.botBack : "",
    }[f.state];
    this.lastState = f.state;
    this.dataset.state = f.state;
    if (text && (announce || f.state !== "bot")) this.log.system(text);
    if (f.state === "queued") this.showQueue();
    else this.$queue.hidden = true;
    if (f.state !== "queued") this.dropCard("contact");
    if (f.state !== "closed") this.dropCard("rating");
    const away = f.availability && f.availability.status !== "open";
    if (f.state === "queued" && away && !this.contactLeft && !this.cards.contact) {
      this.addCard("contact", contactCard(this.t, (email) => this.sendCard("contact", { type: "contact", email })));
    }
    if (f.state === "closed" && f.rate && this.conn.saved.rated !== f.seq) {
      const card = this.addCard("rating", ratingCard(this.t, (score, comment) => this.sendCard("rating", { type: "rating", score, comment })));
      card.seq = f.seq;
    }
  }

  showQueue() {
    this.$queue.textContent = this.queuePlace ? this.t.queuedAt(this.queuePlace) : this.t.queued;
    this.$queue.hidden = false;
  }

  addCard(kind, card) {
    this.dropCard(kind);
    this.cards[kind] = card;
    this.$log.append(card);
    this.log.scroll();
    return card;
  }

  dropCard(kind) {
    this.cards[kind]?.remove();
    this.cards[kind] = null;
  }

  sendCard(kind, frame) {
    const card = this.cards[kind];
    card.clientId = uuid();
    this.conn.send({ ...frame, client_id: card.clientId });
  }

  onStatus(status) {
    if (status === "online") {
      this.$status.hidden = true;
    } else if (status === "offline") {
      this.$status.textContent = this.t.offline;
      this.$status.hidden = false;
    } else if (this.welcomed) {
      this.$status.textContent = this.t.reconnecting;
      this.$status.hidden = false;
    }
  }

  // -- composing -------------------------------------------------------------------------

  typing() {
    const now = Date.now();
    if (now - (this.lastTyping || 0) > 2000) {
      this.lastTyping = now;
      this.conn.sendTransient({ type: "typing" });
    }
  }

  async submit() {
    const text = this.$text.value.trim();
    if (this.attachments.some((a) => !a.id && !a.failed)) {
      // Still uploading: send as soon as the uploads are done.
      this.sendWhenReady = true;
      this.$send.textContent = this.t.uploading;
      return;
    }
    this.sendWhenReady = false;
    this.$send.textContent = this.t.send;
    const ready = this.attachments.filter((a) => a.id);
    if (!text && !ready.length) return;
    const frame = { type: "message", client_id: uuid() };
    if (text) frame.text = text;
    if (ready.length) frame.attachments = ready.map((a) => ({ upload_id: a.id }));
    this.log.pending(frame, ready.map((a) => a.preview()));
    this.conn.send(frame);
    this.$text.value = "";
    for (const a of this.attachments) a.chip.remove();
    this.attachments = [];
  }

  // The cleaned upload, fetched with the conversation token (an <img> cannot send one).
  fetchUpload(id) {
    if (!this.files.has(id)) {
      const url = fetch(`${this.server}/api/uploads/${encodeURIComponent(id)}`, {
        headers: { Authorization: `Bearer ${this.conn.token}` },
      })
        .then((r) => (r.ok ? r.blob() : null))
        .then((b) => (b ? URL.createObjectURL(b) : null))
        .catch(() => null);
      this.files.set(id, url);
    }
    return this.files.get(id);
  }

  whenWelcomed() {
    if (this.conn.token) return Promise.resolve();
    this.conn.start();
    return new Promise((resolve) => (this.resolveWelcome = resolve));
  }

  async attach(file, name) {
    const isAudio = file.type.startsWith("audio/");
    const t = this.t;
    const url = isAudio ? null : URL.createObjectURL(file);
    const progress = el("progress", { max: "1", value: "0", "aria-label": t.uploading });
    const note = el("span", { text: isAudio ? t.voiceNote : name });
    const item = { name, failed: false };
    const cancel = el("button", { type: "button", class: "icon", "aria-label": `${t.cancel}: ${name}`, onclick: () => {
      item.job?.cancel();
      item.chip.remove();
      this.attachments = this.attachments.filter((a) => a !== item);
    } }, svg(ICONS.close));
    item.chip = el("div", { class: "chip" }, url ? el("img", { src: url, alt: t.screenshot }) : "", note, progress, cancel);
    item.preview = () => (url ? el("div", { class: "attachment" }, el("img", { src: url, alt: t.screenshot })) : el("div", { class: "attachment", text: t.voiceNote }));
    this.attachments.push(item);
    this.$tray.append(item.chip);
    await this.whenWelcomed();
    item.job = upload(this.server, this.conn.token, file, name, (p) => (progress.value = p));
    try {
      const answer = await item.job.done;
      item.id = answer.upload_id;
      progress.remove();
      if (this.sendWhenReady) this.submit();
    } catch (err) {
      if (err.name === "AbortError") return;
      item.failed = true;
      progress.remove();
      note.textContent = `${name}: ${err.message}`;
      note.className = "error";
      note.setAttribute("role", "alert");
      this.attachments = this.attachments.filter((a) => a !== item);
      if (this.sendWhenReady) this.submit();
    }
  }

  async startRecording() {
    if (this.recording) return;
    try {
      this.recording = await record({
        maxSeconds: this.maxVoice,
        onLevel: (v) => (this.$level.style.width = `${Math.round(v * 100)}%`),
        onTick: (s) => {
          const whole = Math.floor(s);
          this.$clock.textContent = `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
        },
      });
    } catch {
      this.log.system(this.t.micDenied);
      return;
    }
    this.$recorder.hidden = false;
    this.$recorder.querySelector("button").focus();
    const blob = await this.recording.finished;
    this.recording = null;
    this.$recorder.hidden = true;
    this.$text.focus();
    if (blob && blob.size) this.attach(blob, `voice-note.${extensionFor(blob.type)}`);
  }
}
