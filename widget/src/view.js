// The message log: one bubble per message, streamed drafts, citations, attachments and
// ratings. Everything from the server becomes text nodes (see markdown.js).
import { renderMarkdown, safeUrl } from "./markdown.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children);
  return node;
}

const THUMB = "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6c-.4.4-.6.9-.6 1.4v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z";

function thumb(down) {
  const ns = "http://www.w3.org/2000/svg";
  const s = document.createElementNS(ns, "svg");
  s.setAttribute("viewBox", "0 0 24 24");
  s.setAttribute("aria-hidden", "true");
  if (down) s.style.transform = "rotate(180deg)";
  const p = document.createElementNS(ns, "path");
  p.setAttribute("d", THUMB);
  s.append(p);
  return s;
}

export class Log {
  // fetchUpload(id) resolves to an object URL of the cleaned file (or null).
  constructor(container, t, helpUrl, onRate, fetchUpload) {
    this.container = container;
    this.t = t;
    this.helpUrl = helpUrl;
    this.onRate = onRate;
    this.fetchUpload = fetchUpload;
    this.bubbles = new Map(); // message id or client id -> element
  }

  clear() {
    this.container.replaceChildren();
    this.bubbles.clear();
  }

  scroll() {
    this.container.scrollTop = this.container.scrollHeight;
  }

  system(text) {
    const node = el("div", { class: "msg system", role: "status", text });
    this.container.append(node);
    this.scroll();
    return node;
  }

  // A customer message that is not stored yet (it sits in the outbox).
  pending(frame, previews) {
    if (this.bubbles.has(frame.client_id)) return;
    const node = el("div", { class: "msg customer pending", "data-client-id": frame.client_id });
    node.append(el("div", { text: frame.text || "" }));
    for (const p of previews || []) node.append(p);
    node.append(el("div", { class: "meta", text: this.t.sending }));
    this.bubbles.set(frame.client_id, node);
    this.container.append(node);
    this.scroll();
  }

  // A customer message the server refused for good (or that never got an answer): it
  // stays on screen, marked, so the customer knows to rephrase it.
  failed(clientId) {
    const node = this.bubbles.get(clientId);
    if (!node || !node.classList.contains("pending")) return;
    node.classList.replace("pending", "failed");
    const meta = node.querySelector(".meta");
    if (meta) meta.textContent = this.t.notSent;
  }

  delta(messageId, text) {
    let node = this.bubbles.get(messageId);
    if (!node) {
      node = el("div", { class: "msg bot draft", "data-id": messageId });
      node._raw = "";
      this.bubbles.set(messageId, node);
      this.container.append(node);
    }
    node._raw += text;
    renderMarkdown(node, node._raw);
    this.scroll();
  }

  retract(messageId) {
    const node = this.bubbles.get(messageId);
    if (node) node.remove();
    this.bubbles.delete(messageId);
  }

  message(m) {
    const existing = this.bubbles.get(m.id) || (m.client_id && this.bubbles.get(m.client_id));
    const node = el("div", { class: `msg ${m.role}`, "data-id": m.id });
    const body = el("div");
    const cite = (n) => {
      const c = (m.citations || [])[n - 1];
      if (!c) return null;
      return el("a", { class: "cite", href: `#src-${m.id}-${n}`, text: `[${n}]`, title: c.title });
    };
    renderMarkdown(body, m.text, cite);
    node.append(body);
    for (const a of m.attachments || []) node.append(this.attachment(a));
    if (m.citations && m.citations.length) node.append(this.sources(m));
    if (m.role === "bot" && (m.tier === "mini" || m.tier === "large")) node.append(this.rating(m.id));
    if (existing) existing.replaceWith(node);
    else this.container.insertBefore(node, this.container.querySelector(".pending")); // unsent last
    this.bubbles.set(m.id, node);
    if (m.client_id) this.bubbles.set(m.client_id, node);
    this.scroll();
    return !existing || existing.classList.contains("draft"); // new, or a draft now final
  }

  attachment(a) {
    const said = a.kind === "audio" ? a.transcript : a.text;
    const label = a.kind === "audio" ? `${this.t.voiceNote} · ${this.t.heard}` : `${this.t.screenshot} · ${this.t.read}`;
    const text = said ? said.replace(/\s+/g, " ").trim() : a.error || this.t.nothingHeard;
    const box = el("div", { class: "attachment" });
    const media = a.kind === "audio"
      ? el("audio", { controls: true, preload: "none", "aria-label": this.t.voiceNote })
      : el("img", { alt: this.t.screenshot });
    this.fetchUpload(a.upload_id).then((url) => url && ((media.src = url), box.prepend(media)));
    box.append(el("div", { text: `${label}: ${text}` }));
    return box;
  }

  sources(m) {
    const list = el("ol", { class: "sources", "aria-label": this.t.sources });
    m.citations.forEach((c, i) => {
      const item = el("li", { id: `src-${m.id}-${i + 1}` });
      const href = this.link(c);
      item.append(href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: c.title }) : c.title);
      list.append(item);
    });
    return list;
  }

  // A citation's link: its source when that is a web address, else the help center's
  // address (data-help-url) + the article path + its anchor.
  link(c) {
    const direct = /^https?:\/\//.test(c.source) ? safeUrl(c.source) : null;
    if (direct) return direct;
    if (!this.helpUrl) return null;
    const path = c.source.replace(/\.(md|html?)$/i, "");
    const url = safeUrl(path, this.helpUrl.replace(/\/?$/, "/"));
    return url && c.anchor ? `${url}#${encodeURIComponent(c.anchor)}` : url;
  }

  rating(messageId) {
    const box = el("div", { class: "rate" });
    const make = (rating, label) =>
      el("button", {
        type: "button",
        "aria-label": label,
        title: label,
        "aria-pressed": "false",
        onclick: (e) => {
          for (const b of box.querySelectorAll("button")) b.setAttribute("aria-pressed", "false");
          e.currentTarget.setAttribute("aria-pressed", "true");
          this.onRate(messageId, rating);
        },
      }, thumb(rating === "down"));
    box.append(make("up", this.t.helpful), make("down", this.t.notHelpful));
    return box;
  }
}
