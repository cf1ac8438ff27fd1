// Reads a stack's config file (Pulumi.<stack>.yaml) without the Pulumi CLI, for the render
// command, the benchmark and the tests. Depends on: yaml.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

export const PROJECT = "k8s-lab";

/** The stack's config values, without the project prefix; secure values are not readable here. */
export function readStackFile(root: string, stack: string): Record<string, unknown> {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`no stack file ${file}`);
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    if (!k.startsWith(`${PROJECT}:`)) throw new Error(`${file}: key ${k} is not in the ${PROJECT} namespace`);
    if (v && typeof v === "object" && "secure" in (v as object)) continue;
    out[k.slice(PROJECT.length + 1)] = v;
  }
  return out;
}

/** Values as the engine passes config to a program: strings, JSON for the rest. */
export function engineConfig(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[`${PROJECT}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}
