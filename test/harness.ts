// Runs the program under mocks: mocks first, then `await import()` of index.ts, so the
// program can never run against a real engine by accident (a static import would be
// hoisted above setMocks).
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT, engineConfig, readStackFile } from "../components/config/stack-file";
import { valuesAsEngineGives } from "../components/config";
import { nodeNamesOf, runInStack } from "../components/render/evaluate";
import { Recorder, mocks } from "./mocks";
import { urnOfArgs } from "./graph";

export { PROJECT };
export const ROOT = path.resolve(__dirname, "..");

export interface RunResult {
  rec: Recorder;
  outputs?: Record<string, unknown>;
  error?: unknown;
}

/** The config of a stack file, without the project prefix, decoded as the program reads it from the engine. */
export function stackConfig(stack = "dev"): Record<string, unknown> {
  return valuesAsEngineGives(readStackFile(ROOT, stack));
}

/** Sets the stack config as the engine would: strings, JSON for non-strings. */
export function setConfig(values: Record<string, unknown>, secretKeys: string[] = []): void {
  pulumi.runtime.setAllConfig(engineConfig(values), secretKeys.map((k) => `${PROJECT}:${k}`));
}

/** Awaits an Output's value and whether it is secret (internal fields, checked to exist). */
export async function settle<T>(o: pulumi.Output<T> | T): Promise<{ value: T; secret: boolean }> {
  if (!pulumi.Output.isInstance(o)) return { value: o as T, secret: false };
  const internal = o as unknown as { promise(): Promise<T>; isSecret: Promise<boolean> };
  if (typeof internal.promise !== "function" || !(internal.isSecret instanceof Promise)) throw new Error("Output internals changed; update test/harness.ts");
  return { value: await internal.promise(), secret: await internal.isSecret };
}

/** Runs index.ts with the given config under fresh mocks. Never throws: the error is returned. */
export async function runProgram(
  values: Record<string, unknown>,
  opts: { preview?: boolean; secrets?: Record<string, string>; established?: "all" | string[] } = {},
): Promise<RunResult> {
  const rec = new Recorder();
  const config = engineConfig({ ...values, ...(opts.secrets ?? {}) });
  // by default a change to a running cluster: every node was established by an earlier `up`
  const established = opts.established === undefined || opts.established === "all" ? nodeNamesOf(config, PROJECT) : opts.established;
  await pulumi.runtime.setMocks(mocks(rec, established), PROJECT, "dev", opts.preview ?? false, "organization");
  setConfig({ ...values, ...(opts.secrets ?? {}) }, Object.keys(opts.secrets ?? {}));
  const mod = await import("../index");
  const program = ((mod as unknown as { default?: unknown }).default ?? mod) as () => Promise<Record<string, unknown>>;
  if (typeof program !== "function") throw new Error("index.ts must export the program function");
  // inside the root Stack, as under the CLI; the recorder sees each resource's options
  const { outputs, error } = await runInStack(program, (type, name, o) => {
    rec.options.set(`${type}::${name}`, o);
    const urn = urnOfArgs(type, name, o);
    if (rec.byUrn.has(urn)) throw new Error(`two resources with URN ${urn}`);
    rec.byUrn.set(urn, { urn, opts: o });
  });
  return error === undefined ? { rec, outputs } : { rec, error };
}
