// A safe markdown subset rendered straight to DOM nodes: paragraphs, line breaks,
// "- " and "1. " lists, **bold**, *emphasis*, `code`, [links](https://…) and citation
// markers [n]. Text only ever becomes text nodes: no model or agent output is parsed as
// HTML, and a link is made only for http(s) and mailto URLs.

const INLINE = /(\*\*[^*\n]+\*\*|\*[^*\n]+\*|`[^`\n]+`|\[[^\]\n]+\]\([^)\s]+\)|\[\d{1,2}\])/g;

export function safeUrl(raw, base) {
  try {
    const url = new URL(raw, base || undefined);
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function inline(parent, text, cite) {
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) parent.append(text.slice(last, match.index));
    const token = match[0];
    let node;
    if (token.startsWith("**")) {
      node = document.createElement("strong");
      node.textContent = token.slice(2, -2);
    } else if (token.startsWith("`")) {
      node = document.createElement("code");
      node.textContent = token.slice(1, -1);
    } else if (token.startsWith("*")) {
      node = document.createElement("em");
      node.textContent = token.slice(1, -1);
    } else if (/^\[\d{1,2}\]$/.test(token)) {
      node = cite ? cite(Number(token.slice(1, -1))) : null;
      if (!node) node = document.createTextNode(token);
    } else {
      const close = token.indexOf("](");
      const label = token.slice(1, close);
      const href = safeUrl(token.slice(close + 2, -1));
      if (href) {
        node = document.createElement("a");
        node.href = href;
        node.target = "_blank";
        node.rel = "noopener noreferrer nofollow";
        node.textContent = label;
      } else {
        node = document.createTextNode(label); // javascript:, data: … keep the words only
      }
    }
    parent.append(node);
    last = match.index + token.length;
  }
  if (last < text.length) parent.append(text.slice(last));
}

// Renders `text` into `container` (emptied first). `cite(n)` returns a node for [n].
export function renderMarkdown(container, text, cite) {
  container.replaceChildren();
  const blocks = String(text).replace(/\r\n/g, "\n").split(/\n{2,}/);
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l.trim());
    if (!lines.length) continue;
    const bullet = lines.every((l) => /^\s*[-*] /.test(l));
    const ordered = lines.every((l) => /^\s*\d+[.)] /.test(l));
    if (bullet || ordered) {
      const list = document.createElement(ordered ? "ol" : "ul");
      for (const line of lines) {
        const item = document.createElement("li");
        inline(item, line.replace(/^\s*(?:[-*]|\d+[.)]) /, ""), cite);
        list.append(item);
      }
      container.append(list);
      continue;
    }
    const p = document.createElement("p");
    lines.forEach((line, i) => {
      if (i) p.append(document.createElement("br"));
      inline(p, line, cite);
    });
    container.append(p);
  }
}
