// Cards in the log that ask the customer for something: an email for a follow-up (when
// nobody can answer now) and a rating of the conversation (when an agent closed it).
import { el } from "./view.js";

// onSend(email) sends the contact frame; the card stays until the server confirms.
export function contactCard(t, onSend) {
  const input = el("input", { type: "email", id: "contact-email", required: true, maxlength: "254", autocomplete: "email", placeholder: "name@example.com" });
  const button = el("button", { type: "submit", class: "send", text: t.contactSend });
  const card = el(
    "form",
    { class: "card contact", "aria-label": t.contactAsk, onsubmit: (e) => {
      e.preventDefault();
      const email = input.value.trim();
      if (!email || !input.checkValidity()) return input.reportValidity?.();
      button.disabled = true;
      input.disabled = true;
      onSend(email);
    } },
    el("label", { for: "contact-email", text: t.contactAsk }),
    el("div", { class: "row" }, input, button),
  );
  card.retry = () => ((button.disabled = false), (input.disabled = false), input.focus());
  return card;
}

// onSend(score, comment) sends the rating frame.
export function ratingCard(t, onSend) {
  let score = 0;
  const comment = el("textarea", { id: "rating-comment", rows: "2", maxlength: "1000", placeholder: t.rateComment });
  const button = el("button", { type: "submit", class: "send", text: t.rateSend, disabled: true });
  const stars = el("div", { class: "stars", role: "radiogroup", "aria-label": t.rateAsk });
  for (let n = 1; n <= 5; n++) {
    stars.append(el("button", { type: "button", role: "radio", "aria-checked": "false", "aria-label": t.rateLabel(n), title: t.rateLabel(n), "data-score": String(n), text: String(n), onclick: (e) => {
      score = n;
      for (const b of stars.children) b.setAttribute("aria-checked", String(b === e.currentTarget));
      button.disabled = false;
    } }));
  }
  const card = el(
    "form",
    { class: "card rating", onsubmit: (e) => {
      e.preventDefault();
      if (!score) return;
      button.disabled = true;
      onSend(score, comment.value.trim());
    } },
    el("div", { text: t.rateAsk }),
    stars,
    el("label", { class: "sr", for: "rating-comment", text: t.rateComment }),
    comment,
    button,
  );
  card.done = () => card.replaceWith(el("div", { class: "msg system", role: "status", text: t.rateThanks }));
  card.retry = () => (button.disabled = false);
  return card;
}
