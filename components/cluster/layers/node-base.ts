// Wiring of the node base (owner `nodes`): node prep on every node once it is ready, then
// the release files (artifacts) every later layer runs. Depends on: cluster/builder,
// node-prep.
import { planArtifacts } from "../../node-prep/artifacts";
import { planNodePrep } from "../../node-prep/prep";
import { NodeSteps, PlanBuilder } from "../builder";
import { ReadyGates } from "./vms";

export function wireNodeBase(b: PlanBuilder, ready: ReadyGates): { prep: NodeSteps; artifacts: NodeSteps } {
  const c = b.config;
  const prep = b.hostLayer("prep", "nodes", "none", c.nodes.map((n) => planNodePrep(c, n)));
  for (const n of c.nodes) b.edge(prep[n.name].id, ready[n.name], "SSH answers and cloud-init has finished");
  const artifacts = b.hostLayer("artifacts", "nodes", "none", c.nodes.map((n) => planArtifacts(c, n)));
  for (const n of c.nodes) b.edge(artifacts[n.name].id, prep[n.name].id, "node prep made the directories and installed the packages");
  return { prep, artifacts };
}
