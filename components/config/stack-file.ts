// Reads a stack's config file (Pulumi.<stack>.yaml) without the Pulumi CLI, for the render
// command, the benchmark and the tests, and decodes values as the engine hands them to the
// program. Pure. Depends on: yaml, config/keys.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { KEYS, KeySpec } from "./keys";

export const PROJECT = "k8s-lab";

/**
 * The stack's config values, without the project prefix. Secure values are not readable here:
 * a secret key that is set reads `true`, and one stored in plain text is refused, naming the fix.
 */
export function readStackFile(root: string, stack: string): Record<string, unknown> {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`no stack file ${file}`);
  let doc: { config?: Record<string, unknown> };
  try {
    doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
  } catch (e) {
    throw new Error(`${file} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    if (!k.startsWith(`${PROJECT}:`)) throw new Error(`${file}: key ${k} is not in the ${PROJECT} namespace`);
    const name = k.slice(PROJECT.length + 1);
    const secure = !!v && typeof v === "object" && "secure" in (v as object);
    if (KEYS.find((x) => x.key === name)?.secret) {
      // a secret key only says whether it is set (as the program's getSecret does); its value is never read here
      if (!secure) throw new Error(`${file}: ${name} is stored in plain text; fix: pulumi config set --stack ${stack} --secret ${name} < FILE (the stack file then holds it encrypted)`);
      out[name] = true;
      continue;
    }
    if (secure) continue;
    out[name] = v;
  }
  return out;
}

/** Values as the engine passes config to a program: strings, JSON for the rest. */
export function engineConfig(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[`${PROJECT}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

/**
 * One key's value as the program reads it from the engine, where every value is a string:
 * strings as they are, every other type JSON-decoded (`pulumi config set nodeMemoryMiB 2048`
 * writes "2048", a YAML list arrives as JSON); a value that does not decode is passed on as
 * text, so the schema names the key.
 */
export function decodeConfigValue(k: KeySpec, text: string | undefined): unknown {
  if (text === undefined || k.type === "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A stack file's values as the program reads them (through the engine's strings). */
export function valuesAsEngineGives(values: Record<string, unknown>): Record<string, unknown> {
  const strings = engineConfig(values);
  const out: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(strings)) {
    const name = key.slice(PROJECT.length + 1);
    const k = KEYS.find((x) => x.key === name);
    out[name] = k?.secret ? true : k ? decodeConfigValue(k, text) : text;
  }
  return out;
}
