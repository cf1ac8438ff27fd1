// The resource graph a program run registered, as the engine would name it: every resource
// by URN (its parents' type chain, its type and name) and the explicit dependsOn edges,
// transitively reduced so two wirings that order the same things compare equal.
import * as pulumi from "@pulumi/pulumi";
import { urnOf } from "../tools/engine";

export interface ResourceGraph {
  urns: string[];
  /** [resource, what it waits for], transitively reduced, sorted. */
  edges: Array<[string, string]>;
}

/** Removes every edge implied by a longer path (unique for a DAG). */
export function transitiveReduction(nodes: string[], edges: Array<[string, string]>): Array<[string, string]> {
  const out = new Map<string, Set<string>>(nodes.map((n) => [n, new Set()]));
  for (const [a, b] of edges) if (a !== b) out.get(a)!.add(b);
  const reach = new Map<string, Set<string>>();
  const reachable = (n: string, trail: string[] = []): Set<string> => {
    const hit = reach.get(n);
    if (hit) return hit;
    if (trail.includes(n)) throw new Error(`dependency cycle: ${[...trail, n].join(" → ")}`);
    const all = new Set<string>();
    for (const d of out.get(n)!) {
      all.add(d);
      for (const x of reachable(d, [...trail, n])) all.add(x);
    }
    reach.set(n, all);
    return all;
  };
  for (const n of nodes) reachable(n);
  const kept: Array<[string, string]> = [];
  for (const [a, deps] of out) {
    for (const b of deps) {
      const implied = [...deps].some((c) => c !== b && reachable(c).has(b));
      if (!implied) kept.push([a, b]);
    }
  }
  return kept.sort(([a, b], [c, d]) => a.localeCompare(c) || b.localeCompare(d));
}

/** The graph from the options the program passed (see Recorder.options). */
export function resourceGraph(options: Map<string, { urn: string; opts: pulumi.CustomResourceOptions }>): ResourceGraph {
  const urns = [...new Set([...options.values()].map((o) => o.urn))].sort();
  const edges: Array<[string, string]> = [];
  for (const { urn, opts } of options.values()) {
    for (const d of ([opts.dependsOn ?? []] as unknown[]).flat(3)) edges.push([urn, urnOf(d)]);
  }
  return { urns, edges: transitiveReduction(urns, edges) };
}

/** One line per URN, then one per edge: the fixture format. */
export function graphText(g: ResourceGraph): string {
  return [...g.urns.map((u) => `resource ${u}`), ...g.edges.map(([a, b]) => `${a}  AFTER  ${b}`)].join("\n") + "\n";
}
