// The staff console: log in, watch the queue, take a conversation over, read everything
// the customer sent (screenshots, voice notes, the bot's citations and decisions), reply,
// write internal notes, hand back to the bot or close. Text is rendered as text nodes.
import { renderMarkdown } from "../src/markdown.js";
import { el } from "../src/view.js";
import { loadReport } from "./report.js";

const $ = (sel) => document.querySelector(sel);
const CANNED = [
  "Thanks for waiting! I'm looking into this now.",
  "Could you tell me the email address of your account?",
  "I've fixed this on our side. Could you check again?",
];
let token = sessionStorage.getItem("supportbot-agent") || "";
let ws = null;
let me = "";
let current = "";
const convs = new Map(); // id -> {state, log element, turns}
// Replies and notes not acknowledged yet: sent again (same client_id, stored once) after
// a reconnect, so what an agent wrote while the connection was down is not lost.
const outbox = new Map();

function status(text) {
  $("#status").textContent = text;
}

async function login(event) {
  event.preventDefault();
  const r = await fetch("/api/agent/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: $("#name").value, password: $("#password").value }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) return status(body.message || "Login failed.");
  token = body.token;
  sessionStorage.setItem("supportbot-agent", token);
  connect();
}

function connect() {
  if (!token) return;
  ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/agent");
  ws.onopen = () => ws.send(JSON.stringify({ type: "hello", token, status: $("#presence").value }));
  ws.onmessage = (e) => receive(JSON.parse(e.data));
  ws.onclose = (e) => {
    if (e.code === 1008) {
      token = "";
      sessionStorage.removeItem("supportbot-agent");
      $("#login").hidden = false;
      $("#app").hidden = true;
      return;
    }
    status("Reconnecting…");
    setTimeout(connect, 1000);
  };
}

function send(frame) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}

function receive(f) {
  const c = f.conversation_id ? conversation(f.conversation_id) : null;
  // Taking a conversation again (after a reconnect) replays its whole history: show
  // each event once, keyed by its seq.
  if (c && (f.type === "message" || f.type === "state") && typeof f.seq === "number") {
    if (c.seen.has(f.seq)) return;
    c.seen.add(f.seq);
  }
  switch (f.type) {
    case "welcome":
      me = f.agent.name;
      $("#me").textContent = me;
      $("#add-agent").hidden = f.agent.role !== "admin";
      $("#presence").value = f.status || "online";
      $("#hours").textContent = f.hours
        ? `Hours: ${f.hours.spec} (${f.hours.timezone}) · ${f.hours.open ? "open now" : `closed, back ${f.hours.next_open}`}`
        : "No business hours set: customers are told someone will reply whenever an agent is online.";
      $("#login").hidden = true;
      $("#app").hidden = false;
      status("");
      break;
    case "queue":
      renderQueue(f.conversations);
      break;
    case "team":
      $("#team").replaceChildren(
        ...(f.agents.length ? f.agents : [{ name: "nobody", status: "offline" }]).map((a) =>
          el("li", { class: a.status, text: `${a.name} · ${a.status}` })),
      );
      break;
    case "rating":
      c.log.append(el("div", { class: "event", text: `The customer rated this ${f.rating.score}/5${f.rating.comment ? `: ${f.rating.comment}` : ""}` }));
      break;
    case "assigned":
      for (const id of f.conversations) {
        addAssigned(id);
        // A new socket (a reconnect): follow again what this page followed, so what was
        // said while it was away arrives and live frames go on.
        if (convs.get(id)?.followed) send({ type: "take", conversation_id: id });
      }
      for (const frame of outbox.values()) send(frame); // after the takes, in order
      break;
    case "ack":
      outbox.delete(f.client_id);
      break;
    case "message":
      outbox.delete(String(f.message.client_id || "").replace(/^agent:/, ""));
      addMessage(c, f.message);
      break;
    case "note":
      if (c.notes.has(f.note.id)) break; // a second take replays the notes too
      c.notes.add(f.note.id);
      c.log.append(el("div", { class: "note", text: `Note by ${f.note.agent}: ${f.note.text}` }));
      break;
    case "state":
      c.state = f.state;
      c.log.append(el("div", { class: "event", text: stateText(f) }));
      if (f.conversation_id === current) showHeader();
      break;
    case "typing":
      if (f.conversation_id === current && f.role === "customer") status("The customer is typing…");
      break;
    case "error":
      if (f.client_id) outbox.delete(f.client_id); // refused for good (not the owner…)
      status(f.message);
      break;
  }
  if (c) c.log.scrollTop = c.log.scrollHeight;
}

function stateText(f) {
  if (f.state === "agent") return `${f.agent ? f.agent.name : "An agent"} took over`;
  if (f.state === "queued") return `Handed to the queue (${f.reason || "no reason"})`;
  if (f.state === "bot") return `Back with the bot${f.reason ? ` (${f.reason})` : ""}`;
  return `Conversation ${f.state}`;
}

function renderQueue(items) {
  const list = $("#queue");
  list.replaceChildren();
  if (!items.length) list.append(el("li", { class: "empty", text: "Nobody is waiting." }));
  for (const q of items) {
    const since = new Date(q.waiting_since);
    list.append(
      el(
        "li",
        { "data-id": q.conversation_id },
        el("div", { class: "reason", text: `${q.reason || "escalated"} · ${q.channel}` }),
        el("time", { datetime: q.waiting_since, text: `waiting ${wait(since)}` }),
        el("p", { class: "summary", text: q.summary || "" }),
        q.email ? el("p", { class: "email", text: `Follow up by email: ${q.email}` }) : "",
        q.phone
          ? el("p", {
              class: "phone",
              text: q.callback ? `Call back: ${q.phone} (asked for a call back)` : `Caller: ${q.phone}`,
            })
          : "",
        el("button", { type: "button", text: "Take over", onclick: () => take(q.conversation_id) }),
      ),
    );
  }
}

function wait(since) {
  const s = Math.max(0, Math.round((Date.now() - since.getTime()) / 1000));
  return s < 60 ? `${s} s` : `${Math.round(s / 60)} min`;
}

function conversation(id) {
  if (!convs.has(id)) {
    const log = el("div", { class: "transcript", role: "log", "aria-live": "polite" });
    convs.set(id, { state: "", log, turns: null, seen: new Set(), notes: new Set(), followed: false });
  }
  return convs.get(id);
}

function take(id) {
  conversation(id).followed = true;
  send({ type: "take", conversation_id: id });
  addAssigned(id);
  open(id);
}

function addAssigned(id) {
  if (document.querySelector(`#assigned [data-id="${id}"]`)) return;
  $("#assigned").append(
    el("li", { "data-id": id }, el("button", { type: "button", class: "secondary", text: `Open ${id.slice(0, 8)}`, onclick: () => take(id) })),
  );
}

async function open(id) {
  current = id;
  const c = conversation(id);
  $("#transcript").replaceChildren(c.log);
  $("#conversation").hidden = false;
  showHeader();
  const r = await fetch(`/api/agent/conversations/${encodeURIComponent(id)}/turns`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (r.ok) {
    c.turns = (await r.json()).turns;
    for (const t of c.turns) decorate(c, t);
  }
}

function showHeader() {
  const c = conversation(current);
  $("#conv-title").textContent = `Conversation ${current.slice(0, 8)} · ${c.state || "…"}`;
}

function addMessage(c, m) {
  const box = el("div", { class: `msg ${m.role}`, "data-id": m.id });
  box.append(el("div", { class: "who", text: m.role === "agent" ? "You / agent" : m.role }));
  const body = el("div");
  renderMarkdown(body, m.text);
  box.append(body);
  for (const a of m.attachments || []) box.append(attachment(a));
  if (m.citations && m.citations.length) {
    const list = el("ol", { class: "sources" });
    for (const cit of m.citations) list.append(el("li", { text: `${cit.title} (${cit.source}, ${cit.score})` }));
    box.append(list);
  }
  c.log.append(box);
  if (c.turns) for (const t of c.turns) decorate(c, t);
}

function attachment(a) {
  const box = el("div", { class: "attachment" });
  const said = a.kind === "audio" ? a.transcript : a.text;
  box.append(el("div", { text: `${a.kind === "audio" ? "Voice note" : "Screenshot"}: ${said || a.error || "(nothing read)"}` }));
  fetch(`/api/uploads/${encodeURIComponent(a.upload_id)}`, { headers: { Authorization: `Bearer ${token}` } })
    .then((r) => (r.ok ? r.blob() : null))
    .then((blob) => {
      if (!blob) return;
      const url = URL.createObjectURL(blob);
      box.prepend(
        a.kind === "audio"
          ? el("audio", { controls: true, src: url })
          : el("a", { href: url, target: "_blank", rel: "noopener" }, el("img", { src: url, alt: "Screenshot" })),
      );
    });
  return box;
}

// The decision path of a bot turn, under the reply it produced.
function decorate(c, turn) {
  const reply = c.log.querySelector(`.msg[data-id="${turn.reply_id}"]`);
  if (!reply || reply.querySelector(".decision")) return;
  const gate = (turn.decision.find((s) => s.stage.startsWith("answer:")) || {}).gate || "-";
  const summary = `tier ${turn.tier} · confidence ${turn.confidence ?? "-"} · gate ${gate}` +
    `${turn.reason ? ` · ${turn.reason}` : ""} · ${Math.round(turn.latency_ms)} ms · $${turn.cost_usd}`;
  reply.append(
    el("details", { class: "decision" }, el("summary", { text: summary }),
      el("pre", { text: JSON.stringify(turn.decision, null, 1) })),
  );
}

function composer(kind) {
  const text = $("#reply").value.trim();
  if (!text || !current) return;
  const frame = { type: kind, conversation_id: current, client_id: crypto.randomUUID(), text };
  outbox.set(frame.client_id, frame);
  send(frame);
  $("#reply").value = "";
}

$("#login-form").addEventListener("submit", login);
$("#add-agent").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await fetch("/api/agent/agents", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({
      name: $("#new-name").value,
      password: $("#new-password").value,
      role: $("#new-admin").checked ? "admin" : "agent",
    }),
  });
  const body = await r.json().catch(() => ({}));
  status(r.ok ? `Agent ${body.name} added.` : body.message || "Could not add the agent.");
  if (r.ok) e.target.reset();
});
$("#presence").addEventListener("change", (e) => send({ type: "presence", status: e.target.value }));
$("#show-report").addEventListener("click", () => {
  const report = $("#report");
  report.hidden = !report.hidden;
  if (!report.hidden) loadReport(token, $("#report-days").value, $("#report-body"));
});
$("#report-days").addEventListener("change", (e) => loadReport(token, e.target.value, $("#report-body")));
$("#send-reply").addEventListener("click", () => composer("reply"));
$("#send-note").addEventListener("click", () => composer("note"));
$("#reply").addEventListener("input", () => current && send({ type: "typing", conversation_id: current }));
$("#release").addEventListener("click", () =>
  send({ type: "release", conversation_id: current, reason: $("#release-reason").value || "resolved" }),
);
$("#close").addEventListener("click", () => send({ type: "close", conversation_id: current }));
for (const text of CANNED) $("#canned").append(el("option", { value: text, text }));
$("#canned").addEventListener("change", (e) => {
  if (e.target.value) $("#reply").value = e.target.value;
  e.target.value = "";
});
setInterval(() => {
  for (const t of document.querySelectorAll("#queue time")) {
    t.textContent = `waiting ${wait(new Date(t.getAttribute("datetime")))}`;
  }
}, 10_000);
if (token) connect();
