// Summarizes a `pulumi up|destroy --event-log` file: seconds per layer (resources grouped by
// the name's layer prefix, e.g. etcd-k8s-1 → etcd; wall time from the first start to the
// last finish in the layer) and counts by operation. Usage: node events.js FILE [TITLE]
"use strict";
const fs = require("fs");
const [file, title = "run"] = process.argv.slice(2);
const lines = fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const start = new Map();
const layers = new Map();
const ops = {};
const layerOf = (name) => {
  if (/^(domain|volume|cloudinit|network|pool|ready)-/.test(name)) return `vm:${name.split("-")[0]}`;
  const m = /^([a-z-]+?)-(k8s-\d+|[a-z0-9]+-\d+)(-upload-.*)?$/.exec(name);
  return m ? m[1] + (m[3] ? " (copies)" : "") : name.replace(/-[a-f0-9]{8,}$/, "");
};
for (const e of lines) {
  const t = e.timestamp;
  if (e.resourcePreEvent) {
    const md = e.resourcePreEvent.metadata;
    if (md.type.startsWith("pulumi:") || md.op === "same" || md.op === "read") continue;
    start.set(md.urn, t);
  } else if (e.resOutputsEvent || e.resOpFailedEvent) {
    const md = (e.resOutputsEvent || e.resOpFailedEvent).metadata;
    if (!start.has(md.urn)) continue;
    const name = md.urn.split("::").pop();
    if (md.type.startsWith("k8slab:")) continue; // components: their children are counted
    const layer = md.type.startsWith("kubernetes:") ? "addons (kubernetes objects)" : md.type.startsWith("tls:") || md.type.startsWith("random:") ? "pki" : layerOf(name);
    const l = layers.get(layer) || { first: Infinity, last: 0, n: 0, longest: 0 };
    const s = start.get(md.urn);
    l.first = Math.min(l.first, s); l.last = Math.max(l.last, t); l.n++; l.longest = Math.max(l.longest, t - s);
    layers.set(layer, l);
    ops[md.op] = (ops[md.op] || 0) + 1;
  }
}
const t0 = Math.min(...[...layers.values()].map((l) => l.first));
console.log(`\n${title}: ${Object.entries(ops).map(([k, v]) => `${v} ${k}`).join(", ") || "no changes"}`);
console.log("layer".padEnd(30) + "resources".padStart(10) + "from s".padStart(9) + "to s".padStart(8) + "longest s".padStart(11));
for (const [name, l] of [...layers.entries()].sort((a, b) => a[1].first - b[1].first)) {
  console.log(name.padEnd(30) + String(l.n).padStart(10) + String(l.first - t0).padStart(9) + String(l.last - t0).padStart(8) + String(l.longest).padStart(11));
}
