// Config layer: reads the stack configuration, checks it (preflight) and hands every
// other layer the typed ClusterConfig. Nothing else reads pulumi.Config.
// Depends on: @pulumi/pulumi (config and RunError only).
import * as pulumi from "@pulumi/pulumi";
import { KEYS, KeySpec } from "./keys";
import { PROJECT, engineConfig } from "./stack-file";
import { ClusterConfig } from "./model";
import { PreflightEnv, formatErrors, formatProblem, loadConfig, realEnv } from "./preflight";

export * from "./keys";
export * from "./model";
export * from "./network";
export * from "./preflight";
export * from "./versions";
export * from "./image-archives";
export * from "./stack-file";

export interface StackConfig {
  cluster: ClusterConfig;
  /** The SSH private key from config (secret), when one was set. */
  sshPrivateKey?: pulumi.Output<string>;
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

/** Reads every key with the decoder its type needs; secret keys only say whether they are set. */
export function readStackValues(cfg: pulumi.Config): { values: Record<string, unknown>; sshPrivateKey?: pulumi.Output<string> } {
  const values: Record<string, unknown> = {};
  let sshPrivateKey: pulumi.Output<string> | undefined;
  for (const k of KEYS) {
    if (k.secret) {
      const secret = cfg.getSecret(k.key);
      if (secret !== undefined) {
        values[k.key] = true;
        sshPrivateKey = secret;
      }
      continue;
    }
    values[k.key] = decodeConfigValue(k, cfg.get(k.key));
  }
  return { values, sshPrivateKey };
}

/** A stack file's values as the program reads them (through the engine's strings). */
export function valuesAsEngineGives(values: Record<string, unknown>): Record<string, unknown> {
  const strings = engineConfig(values);
  const out: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(strings)) {
    const name = key.slice(PROJECT.length + 1);
    const k = KEYS.find((x) => x.key === name);
    out[name] = k ? decodeConfigValue(k, text) : text;
  }
  return out;
}

/**
 * The program's first step: config → checked model. On any error it throws a RunError
 * (Pulumi prints its message without a stack trace) before a resource is registered.
 */
export function loadStackConfig(cfg: pulumi.Config = new pulumi.Config(), env: PreflightEnv = realEnv): StackConfig {
  const { values, sshPrivateKey } = readStackValues(cfg);
  const unknownKeys = listUnknownKeys(cfg.name);
  for (const key of unknownKeys) values[key] = "(set)";
  const result = loadConfig(values, env);
  for (const w of result.warnings) pulumi.log.warn(formatProblem(w).replace(/^warning: /, ""));
  if (!result.config) throw new pulumi.RunError(formatErrors(result.errors));
  return { cluster: result.config, sshPrivateKey };
}

/** Keys in this project's namespace that Pulumi.yaml does not declare (typos). */
function listUnknownKeys(namespace: string): string[] {
  const all = pulumi.runtime.allConfig();
  const prefix = `${namespace}:`;
  return Object.keys(all)
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .filter((k) => !KEYS.some((s) => s.key === k));
}
