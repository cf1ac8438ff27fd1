// The plan as a graph: an order that respects every edge (and refuses a cycle or an edge
// to nothing), what a step waits for, the critical path of host steps, the plan's numbers
// (steps by kind, host steps and SSH sessions per node) and the check that every key
// material reference names something the PKI issues. Pure.
// Depends on: cluster/types, host/plan, pki.
import { materialRefs } from "../host/plan";
import { MaterialRef, isIssued, materialName } from "../pki/material";
import { planPki } from "../pki/plan";
import { ClusterPlan, Edge, HostStep, PlannedStep } from "./types";

/** Every key-material reference a host step makes must name something the PKI issues. */
export function checkMaterial(plan: ClusterPlan): void {
  const pki = planPki(plan.config);
  const unknown = new Set<string>();
  for (const s of plan.steps) if (s.kind === "host") for (const r of materialRefs(s.plan)) if (!isIssued(r, pki)) unknown.add(`${s.id}: ${materialName(r)}`);
  if (unknown.size) throw new Error(`cluster plan: key material the PKI does not issue: ${[...unknown].join(", ")}`);
}

/** The steps in an order where every step comes after what it waits for; throws on a cycle or an edge to nothing. */
export function topologicalOrder(plan: Pick<ClusterPlan, "steps" | "edges">): PlannedStep[] {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const waits = new Map<string, string[]>(plan.steps.map((s) => [s.id, []]));
  for (const e of plan.edges) {
    if (!byId.has(e.after) || !byId.has(e.before)) throw new Error(`cluster plan: edge between unknown steps ${e.after} → ${e.before}`);
    waits.get(e.after)!.push(e.before);
  }
  const out: PlannedStep[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, trail: string[]) => {
    if (state.get(id) === "done") return;
    if (state.get(id) === "visiting") throw new Error(`cluster plan: dependency cycle ${[...trail, id].join(" → ")}`);
    state.set(id, "visiting");
    for (const d of waits.get(id)!) visit(d, [...trail, id]);
    state.set(id, "done");
    out.push(byId.get(id)!);
  };
  for (const s of plan.steps) visit(s.id, []);
  return out;
}

/** What a step waits for, with reasons. */
export function edgesInto(plan: Pick<ClusterPlan, "edges">, id: string): Edge[] {
  return plan.edges.filter((e) => e.after === id);
}

/** Every host step, in plan order. */
export function hostSteps(plan: Pick<ClusterPlan, "steps">): HostStep[] {
  return plan.steps.filter((s): s is HostStep => s.kind === "host");
}

/** The longest chain of host steps that must run one after another (ids). */
export function criticalPath(plan: ClusterPlan): string[] {
  const host = new Set(hostSteps(plan).map((s) => s.id));
  const memo = new Map<string, string[]>();
  const longest = (id: string): string[] => {
    const hit = memo.get(id);
    if (hit) return hit;
    let best: string[] = [];
    for (const e of edgesInto(plan, id)) {
      const p = longest(e.before);
      if (p.length > best.length) best = p;
    }
    const path = host.has(id) ? [...best, id] : best;
    memo.set(id, path);
    return path;
  };
  let best: string[] = [];
  for (const s of topologicalOrder(plan)) {
    const p = longest(s.id);
    if (p.length > best.length) best = p;
  }
  return best;
}

/** SSH sessions each node gets during a full `up`: one per host step, one per file uploaded to it. */
export function sshSessionsPerNode(plan: ClusterPlan): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of hostSteps(plan)) out[s.plan.node] = (out[s.plan.node] ?? 0) + 1 + (s.plan.upload?.files.length ?? 0);
  return Object.fromEntries(Object.entries(out).sort());
}

/** Host steps per node. */
export function hostStepsPerNode(plan: ClusterPlan): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of hostSteps(plan)) out[s.plan.node] = (out[s.plan.node] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort());
}

/** Every reference to key material the plan's host steps make, once each. */
export function materialInPlan(plan: ClusterPlan): MaterialRef[] {
  const seen = new Map<string, MaterialRef>();
  for (const s of hostSteps(plan)) for (const r of materialRefs(s.plan)) seen.set(materialName(r), r);
  return [...seen.values()];
}

export interface PlanNumbers {
  /** Steps of the plan by kind (host steps, libvirt objects, Kubernetes objects…). */
  stepsByKind: Record<string, number>;
  hostStepsPerNode: Record<string, number>;
  sshSessionsPerNode: Record<string, number>;
  criticalPath: string[];
}

/** The plan's numbers. */
export function planNumbers(plan: ClusterPlan): PlanNumbers {
  const stepsByKind: Record<string, number> = {};
  for (const s of plan.steps) stepsByKind[s.kind] = (stepsByKind[s.kind] ?? 0) + 1;
  return {
    stepsByKind: Object.fromEntries(Object.entries(stepsByKind).sort()),
    hostStepsPerNode: hostStepsPerNode(plan),
    sshSessionsPerNode: sshSessionsPerNode(plan),
    criticalPath: criticalPath(plan),
  };
}
