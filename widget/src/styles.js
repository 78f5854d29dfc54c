// The widget's CSS, inside its shadow root: the host page's styles cannot reach in and
// these cannot leak out. Themed with custom properties set on the element (or its
// data-color attribute).
export const CSS = `
:host { all: initial; --sc-accent: #1f5fbf; --sc-accent-text: #fff; --sc-bg: #fff;
  --sc-text: #1d2330; --sc-muted: #59616e; --sc-bubble: #eef1f6; --sc-radius: 14px;
  --sc-font: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  position: fixed; z-index: 2147483000; bottom: 20px; right: 20px; font: 15px/1.45 var(--sc-font);
  color: var(--sc-text); }
:host([data-position="left"]) { right: auto; left: 20px; }
:host([data-inline]) { position: static; }
* { box-sizing: border-box; }
button { font: inherit; cursor: pointer; }
:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
.launcher { width: 60px; height: 60px; border-radius: 50%; border: 0; background: var(--sc-accent);
  color: var(--sc-accent-text); box-shadow: 0 4px 16px rgba(0,0,0,.25); position: relative;
  display: grid; place-items: center; }
.launcher svg { width: 28px; height: 28px; fill: currentColor; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: #c62828; color: #fff; font-size: 12px; font-weight: 700;
  display: grid; place-items: center; }
.badge[hidden], [hidden] { display: none !important; }
.panel { position: absolute; bottom: 76px; right: 0; width: 380px; height: min(620px, calc(100vh - 110px));
  background: var(--sc-bg); border-radius: var(--sc-radius); box-shadow: 0 8px 32px rgba(0,0,0,.28);
  display: flex; flex-direction: column; overflow: hidden; }
:host([data-position="left"]) .panel { right: auto; left: 0; }
@media (max-width: 520px) {
  .panel { position: fixed; inset: 0; width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; }
}
header { display: flex; align-items: center; gap: 10px; padding: 12px 14px; background: var(--sc-accent);
  color: var(--sc-accent-text); }
header img { width: 32px; height: 32px; border-radius: 50%; object-fit: cover; }
header h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 600; }
.icon { background: transparent; border: 0; color: inherit; padding: 6px; border-radius: 8px; line-height: 0; }
.icon svg { width: 20px; height: 20px; fill: currentColor; }
.status { padding: 6px 14px; font-size: 13px; background: #fff4d6; color: #5c4400; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 86%; padding: 8px 12px; border-radius: 12px; background: var(--sc-bubble);
  overflow-wrap: anywhere; }
.msg p { margin: 0 0 6px; } .msg p:last-child { margin-bottom: 0; }
.msg ul, .msg ol { margin: 4px 0; padding-inline-start: 20px; }
.msg code { background: rgba(0,0,0,.07); padding: 0 3px; border-radius: 4px; }
.msg a { color: inherit; }
.customer { align-self: flex-end; background: var(--sc-accent); color: var(--sc-accent-text); }
.system { align-self: center; background: transparent; color: var(--sc-muted); font-size: 13px; text-align: center; }
.pending { opacity: .7; }
.failed { opacity: .7; outline: 2px solid #b00020; outline-offset: 1px; }
.draft { opacity: .85; }
.meta { font-size: 12px; color: var(--sc-muted); margin-top: 4px; }
.customer .meta { color: inherit; opacity: .85; }
.cite { font-size: 11px; vertical-align: super; text-decoration: none; padding: 0 1px; }
.sources { margin: 6px 0 0; padding-inline-start: 18px; font-size: 13px; }
.rate { display: flex; gap: 4px; margin-top: 4px; }
.rate button { border: 1px solid #b8bfcc; background: #fff; border-radius: 8px; padding: 3px 8px; line-height: 0; color: var(--sc-text); }
.rate svg { width: 16px; height: 16px; fill: currentColor; }
.attachment audio { display: block; width: 100%; height: 36px; margin-bottom: 4px; }
.rate button[aria-pressed="true"] { background: var(--sc-accent); color: var(--sc-accent-text); border-color: var(--sc-accent); }
.attachment { font-size: 13px; margin-top: 4px; }
.attachment img { max-width: 100%; max-height: 140px; border-radius: 8px; display: block; }
.typing { font-size: 13px; color: var(--sc-muted); padding: 0 14px 4px; min-height: 1.2em; }
.tray { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 12px; }
.chip { display: flex; align-items: center; gap: 6px; border: 1px solid #cfd5df; border-radius: 10px; padding: 4px 6px; font-size: 13px; }
.chip img { width: 40px; height: 40px; object-fit: cover; border-radius: 6px; }
.chip progress { width: 70px; }
.chip .error { color: #b00020; }
.recorder { display: flex; align-items: center; gap: 8px; padding: 6px 12px; font-size: 13px; }
.level { flex: 1; height: 8px; background: #e3e7ee; border-radius: 4px; overflow: hidden; }
.level span { display: block; height: 100%; width: 0; background: #2e7d32; }
form { display: flex; align-items: flex-end; gap: 6px; padding: 10px 12px 12px; border-top: 1px solid #e3e7ee; }
textarea { flex: 1; resize: none; font: inherit; color: var(--sc-text); padding: 8px 10px; border: 1px solid #9aa3b2; border-radius: 10px; max-height: 120px; }
.send { background: var(--sc-accent); color: var(--sc-accent-text); border: 0; border-radius: 10px; padding: 8px 12px; }
.tool { background: #fff; border: 1px solid #9aa3b2; color: var(--sc-text); border-radius: 10px; padding: 7px; line-height: 0; }
.tool svg { width: 20px; height: 20px; fill: currentColor; }
.human { margin: 0 12px 8px; background: #fff; border: 1px solid var(--sc-accent); color: var(--sc-accent); border-radius: 10px; padding: 6px; }
.queue { padding: 6px 14px; font-size: 13px; background: #e8f0fc; color: #123f80; }
form.card { display: flex; flex-direction: column; gap: 6px; align-self: stretch; padding: 10px; border: 1px solid #cfd5df;
  border-radius: 12px; background: #fff; font-size: 14px; }
.card .row { display: flex; gap: 6px; }
.card input { flex: 1; min-width: 0; font: inherit; padding: 7px 9px; border: 1px solid #9aa3b2; border-radius: 10px; color: var(--sc-text); }
.stars { display: flex; gap: 6px; }
.stars button { flex: 1; border: 1px solid #9aa3b2; background: #fff; border-radius: 8px; padding: 6px 0; font: inherit; color: var(--sc-text); }
.stars button[aria-checked="true"] { background: var(--sc-accent); color: var(--sc-accent-text); border-color: var(--sc-accent); }
.send:disabled { opacity: .6; }
.drop { position: absolute; inset: 0; background: rgba(31,95,191,.12); border: 3px dashed var(--sc-accent);
  display: grid; place-items: center; font-weight: 600; pointer-events: none; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
