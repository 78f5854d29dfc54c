// Entry point. One tag embeds the widget:
//   <script src="https://HOST/widget.js" data-server="https://HOST" async></script>
// or place it yourself: <support-chat data-server="https://HOST"></support-chat>.
// The script tag's data-* attributes (title, greeting, color, position, avatar, locale,
// help-url, max-voice-seconds, open) become the element's.
import { SupportChat } from "./widget.js";

const script = document.currentScript;
if (script && script.src) SupportChat.defaultServer = new URL(script.src).origin;
if (!customElements.get("support-chat")) customElements.define("support-chat", SupportChat);

function mount() {
  if (!script || document.querySelector("support-chat")) return;
  const chat = document.createElement("support-chat");
  for (const [k, v] of Object.entries(script.dataset)) chat.dataset[k] = v;
  document.body.append(chat);
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
else mount();
