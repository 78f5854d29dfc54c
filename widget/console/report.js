// The report page of the console: GET /api/agent/report?days=N, shown as tables.
import { el } from "../src/view.js";

const pct = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)} %`);
const usd = (x) => (x === null || x === undefined ? "–" : `$${x.toFixed(4)}`);
const secs = (s) => (s === null || s === undefined ? "–" : s < 90 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);

function table(caption, rows) {
  return el(
    "table",
    {},
    el("caption", { text: caption }),
    ...rows.map(([k, v]) => el("tr", {}, el("th", { scope: "row", text: k }), el("td", { text: String(v) }))),
  );
}

export async function loadReport(token, days, into) {
  const r = await fetch(`/api/agent/report?days=${encodeURIComponent(days)}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    into.replaceChildren(el("p", { text: body.message || "The report could not be loaded." }));
    return;
  }
  const reply = body.first_agent_reply;
  const parts = [
    table("Conversations", [
      ["Conversations", body.conversations],
      ["Resolution rate", pct(body.resolution_rate)],
      ["Resolved by the bot", `${body.resolved_by_bot} (${pct(body.bot_resolution_rate)})`],
      ["Resolved by an agent", body.resolved_by_agent],
      ["Escalation rate", pct(body.escalation_rate)],
      ["Median time to first agent reply", `${secs(reply.median_seconds)} (${reply.answered} answered, ${reply.waiting} waiting)`],
      ["Cost per conversation", usd(body.cost.per_conversation_usd)],
      ["Total model cost", usd(body.cost.total_usd)],
    ]),
    table(
      "Escalations by reason",
      body.escalations_by_reason.length
        ? body.escalations_by_reason.map((e) => [e.reason, `${e.count} (${pct(e.rate)})`])
        : [["none", "–"]],
    ),
    table("Customer satisfaction", [
      ["Ratings", body.csat.ratings],
      ["Average (1–5)", body.csat.average ?? "–"],
      ["Satisfied (4 or 5)", pct(body.csat.satisfied_rate)],
      ...Object.entries(body.csat.distribution).map(([score, n]) => [`${score} of 5`, n]),
    ]),
  ];
  const comments = el("ul", { class: "comments" });
  for (const c of body.recent_comments) {
    comments.append(el("li", { text: `${c.score}/5 · ${c.agent || "–"} · ${c.comment}` }));
  }
  into.replaceChildren(...parts, el("h3", { text: "Recent comments" }), comments);
}
