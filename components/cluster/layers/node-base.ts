// Wiring of the node base (owner `nodes`): node prep on every node once it is ready, then
// on every kubelet node copies of what its pods run on (carryover), then the release files
// (artifacts) every later layer runs. Depends on: cluster/builder, node-prep.
import { kubeletNodes } from "../../config";
import { planArtifacts, planCarryover } from "../../node-prep/artifacts";
import { planNodePrep } from "../../node-prep/prep";
import { NodeSteps, PlanBuilder } from "../builder";
import { ReadyGates } from "./vms";

export function wireNodeBase(b: PlanBuilder, ready: ReadyGates): { prep: NodeSteps; artifacts: NodeSteps } {
  const c = b.config;
  const prep = b.hostLayer("prep", "nodes", "none", c.nodes.map((n) => planNodePrep(c, n)));
  for (const n of c.nodes) b.edge(prep[n.name].id, ready[n.name], "SSH answers and cloud-init has finished");
  const carryover = b.hostLayer("carryover", "nodes", "none", kubeletNodes(c).map((n) => planCarryover(n)));
  // beside node prep (it needs nothing of it): not on the first up's critical path
  for (const [n, s] of Object.entries(carryover)) b.edge(s.id, ready[n], "SSH answers and cloud-init has finished");
  const artifacts = b.hostLayer("artifacts", "nodes", "none", c.nodes.map((n) => planArtifacts(c, n)));
  for (const n of c.nodes) b.edge(artifacts[n.name].id, prep[n.name].id, "node prep made the directories and installed the packages");
  // a replaced artifacts step of an older version removes the runtime and the CNI plugins in its delete
  for (const [n, s] of Object.entries(carryover)) b.edge(artifacts[n].id, s.id, "the running runtime and CNI plugins are kept before an older artifacts step's delete");
  return { prep, artifacts };
}
