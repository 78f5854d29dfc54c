// Bundles widget/src into bot/server/static/widget.js (committed, so the server needs no
// Node at run time). The banner records a hash of the sources; a Python test checks it,
// so a stale bundle fails the suite. Run: make widget (or: cd widget && npm ci && npm run build).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { build } from "esbuild";

// Both bundles carry the hash of both source folders (the console imports the widget's
// markdown renderer).
export function sourcesHash() {
  const hash = createHash("sha256");
  for (const dir of ["console", "src"]) {
    for (const name of readdirSync(dir).sort()) {
      const text = readFileSync(`${dir}/${name}`, "utf8").replace(/\r\n/g, "\n");
      hash.update(`${dir}/${name}\0${text}\0`);
    }
  }
  return hash.digest("hex");
}

for (const [entry, out, what] of [
  ["src/main.js", "widget.js", "widget"],
  ["console/console.js", "console.js", "console"],
]) {
  await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020"],
    legalComments: "none",
    banner: { js: `/* supportbot ${what} | sources sha256:${sourcesHash()} */` },
    outfile: `../bot/server/static/${out}`,
  });
}
