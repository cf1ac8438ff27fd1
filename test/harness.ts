// Runs the program under the stand-in engine (tools/engine.ts): mocks first,
// then `await import()` of index.ts, so the program can never run against a real engine by
// accident (a static import would be hoisted above setMocks).
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, LastUp, PROJECT, engineConfig, formatErrors, loadConfig, readStackFile, valuesAsEngineGives } from "../components/config";
import { HostStepPlan } from "../components/host/plan";
import { ClusterPlan, edgesInto, hostSteps, planCluster } from "../components/cluster/plan";
import { Program, Recorder, runUnderEngine } from "../tools/engine";

export { PROJECT };

/** Three control-plane + etcd nodes that run no pods, and two worker-only nodes. */
export const SPLIT_ROLE_NODES = [
  "name=cp-1 ip=192.168.253.21 roles=etcd,control-plane",
  "name=cp-2 ip=192.168.253.22 roles=etcd,control-plane",
  "name=cp-3 ip=192.168.253.23 roles=etcd,control-plane",
  "name=w-1 ip=192.168.253.31 roles=worker",
  "name=w-2 ip=192.168.253.32 roles=worker",
];
export const ROOT = path.resolve(__dirname, "..");

/** The cluster plan of stack values (as the engine hands them), on a cluster whose `established` nodes run ("all": every node). */
export function planOf(values: Record<string, unknown>, established: "all" | string[] = [], lastUp?: LastUp): ClusterPlan {
  const loaded = loadConfig(values);
  if (!loaded.config) throw new Error(formatErrors(loaded.errors));
  const c = loaded.config;
  return planCluster(c, { established: new Set(established === "all" ? c.nodes.map((n) => n.name) : established), lastUp });
}

/** What a step of the plan waits for (the ids of its edges' `before`), in edge order: the shipped `dependsOn` (test/unit/cluster-plan.test.ts proves they are equal). */
export function waitsFor(plan: ClusterPlan, id: string): string[] {
  if (!plan.steps.some((s) => s.id === id)) throw new Error(`no step ${id} in the plan`);
  return edgesInto(plan, id).map((e) => e.before);
}

/** Every host step's plan of a config, in plan order. */
export function allHostSteps(c: ClusterConfig): HostStepPlan[] {
  return hostSteps(planCluster(c)).map((s) => s.plan);
}

export interface RunResult {
  rec: Recorder;
  outputs?: Record<string, unknown>;
  error?: unknown;
}

/** The config of a stack file, without the project prefix, decoded as the program reads it from the engine. */
export function stackConfig(stack = "dev"): Record<string, unknown> {
  return valuesAsEngineGives(readStackFile(ROOT, stack));
}

/** Awaits an Output's value and whether it is secret (internal fields, checked to exist). */
export async function settle<T>(o: pulumi.Output<T> | T): Promise<{ value: T; secret: boolean }> {
  if (!pulumi.Output.isInstance(o)) return { value: o as T, secret: false };
  const internal = o as unknown as { promise(): Promise<T>; isSecret: Promise<boolean> };
  if (typeof internal.promise !== "function" || !(internal.isSecret instanceof Promise)) throw new Error("Output internals changed; update test/harness.ts");
  return { value: await internal.promise(), secret: await internal.isSecret };
}

/** A program run's stack outputs with every Output resolved (secrets in plain text), as a reference to the stack reads them. */
export async function resolvedOutputs(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs)) out[k] = (await settle(pulumi.output(v))).value;
  return out;
}

const loadProgram = async (): Promise<Program> => {
  const mod = await import("../index");
  return ((mod as unknown as { default?: unknown }).default ?? mod) as Program;
};

/** Runs index.ts with the given config under a fresh stand-in engine. Never throws: the error is returned. */
export async function runProgram(
  values: Record<string, unknown>,
  opts: { preview?: boolean; secrets?: Record<string, string>; established?: "all" | string[]; previousOutputs?: Record<string, unknown>; goneMachines?: string[] } = {},
): Promise<RunResult> {
  const { rec, outputs, error } = await runUnderEngine({
    project: PROJECT,
    stack: "dev",
    config: engineConfig({ ...values, ...(opts.secrets ?? {}) }),
    secretKeys: Object.keys(opts.secrets ?? {}).map((k) => `${PROJECT}:${k}`),
    // by default a change to a running cluster: every node was established by an earlier `up`
    established: opts.established,
    previousOutputs: opts.previousOutputs,
    preview: opts.preview,
    goneMachines: opts.goneMachines,
    load: loadProgram,
  });
  return error === undefined ? { rec, outputs } : { rec, error };
}
