// Mermaid's own parser as a judge of the diagrams the render draws: reads a diagram on
// standard input, prints {"diagramType": …} when Mermaid accepts it, else the parse error
// (exit 1). Mermaid needs a DOM: jsdom stands in for the browser.
import { readFileSync } from "fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
try {
  const r = await mermaid.parse(readFileSync(0, "utf8"));
  console.log(JSON.stringify({ diagramType: r.diagramType }));
} catch (e) {
  console.error(String(e && e.message ? e.message : e));
  process.exit(1);
}
