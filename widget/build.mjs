// Bundles widget/src into bot/server/static/widget.js (committed, so the server needs no
// Node at run time). The banner records a hash of the sources; a Python test checks it,
// so a stale bundle fails the suite. Run: make widget (or: cd widget && npm ci && npm run build).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { build } from "esbuild";

export function sourcesHash() {
  const hash = createHash("sha256");
  for (const name of readdirSync("src").sort()) {
    hash.update(name + "\0" + readFileSync(`src/${name}`, "utf8").replace(/\r\n/g, "\n") + "\0");
  }
  return hash.digest("hex");
}

await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "none",
  banner: { js: `/* supportbot widget | sources sha256:${sourcesHash()} */` },
  outfile: "../bot/server/static/widget.js",
});
