// The program's config reader: pulumi.Config → checked ClusterConfig, or one clear
// RunError naming every bad key before any resource is registered. The only module under
// components/config that loads the Pulumi SDK (the barrel stays pure for the plans).
// Depends on: config (barrel), @pulumi/pulumi.
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, KEYS, LastUp, MachineState, PreflightEnv, decodeConfigValue, formatErrors, formatProblem, lastUpProblems, loadConfig, lostMachineProblems, runEnv } from ".";

export interface StackConfig {
  cluster: ClusterConfig;
  /** The SSH private key from config (secret), when one was set. */
  sshPrivateKey?: pulumi.Output<string>;
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

/**
 * The program's first step: config → checked model. On any error it throws a RunError
 * (Pulumi prints its message without a stack trace) before a resource is registered.
 */
export function loadStackConfig(cfg: pulumi.Config = new pulumi.Config(), env: PreflightEnv = runEnv): StackConfig {
  const { values, sshPrivateKey } = readStackValues(cfg);
  const unknownKeys = listUnknownKeys(cfg.name);
  for (const key of unknownKeys) values[key] = "(set)";
  const result = loadConfig(values, env);
  for (const w of result.warnings) pulumi.log.warn(formatProblem(w).replace(/^warning: /, ""));
  if (!result.config) throw new pulumi.RunError(formatErrors(result.errors));
  return { cluster: result.config, sshPrivateKey };
}

/**
 * The day-two rules: this config against what the last `up` left running and what libvirt
 * still has of its machines. Throws one
 * RunError naming every problem before any change is registered (only the read of the
 * stack's own outputs precedes it).
 */
export function checkAgainstLastUp(cluster: ClusterConfig, lastUp: LastUp | undefined, running: ReadonlySet<string>, machines: MachineState[] | undefined = []): void {
  const problems = [...lastUpProblems(cluster, lastUp, running), ...lostMachineProblems(cluster, lastUp, machines)];
  for (const w of problems.filter((p) => p.severity === "warning")) pulumi.log.warn(formatProblem(w).replace(/^warning: /, ""));
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length) throw new pulumi.RunError(formatErrors(errors));
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
