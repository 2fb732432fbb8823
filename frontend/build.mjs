// Copies the browser builds of our third-party packages into static/vendor/.
// Run by `make run` and `make test` after `npm ci`; nothing is loaded from a CDN.
import { copyFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "static", "vendor");
mkdirSync(out, { recursive: true });

const files = [
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["cytoscape/dist/cytoscape.min.js", "cytoscape.min.js"],
  ["elkjs/lib/elk.bundled.js", "elk.bundled.js"],
  ["cytoscape-elk/dist/cytoscape-elk.js", "cytoscape-elk.js"],
  ["@highlightjs/cdn-assets/highlight.min.js", "highlight.min.js"],
  ["@highlightjs/cdn-assets/languages/yaml.min.js", "highlight-yaml.min.js"],
  ["@highlightjs/cdn-assets/styles/github.min.css", "highlight-github.min.css"],
];
for (const [source, target] of files) {
  const from = join(here, "node_modules", source);
  if (!existsSync(from)) {
    console.error(`missing ${from}: run npm ci in frontend/`);
    process.exit(1);
  }
  copyFileSync(from, join(out, target));
}
console.log(`vendor assets copied to ${out}`);
