// Validates Kubernetes objects (a JSON array on stdin) against the OpenAPI schemas that
// kubernetes-models ships; prints a JSON array of problems (empty: all valid).
// An ES module, because kubernetes-models 5 (schemas of Kubernetes 1.34+) is ESM-only.
import * as fs from "node:fs";

const objects = JSON.parse(fs.readFileSync(0, "utf8"));
const problems = [];
for (const o of objects) {
  const where = `${o.apiVersion} ${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
  const mod = await import(o.apiVersion === "v1" ? "kubernetes-models/v1" : `kubernetes-models/${o.apiVersion}`);
  const Model = mod[o.kind];
  if (!Model) {
    problems.push(`${where}: no schema`);
    continue;
  }
  try {
    new Model(o).validate();
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
  }
}
process.stdout.write(JSON.stringify(problems));
