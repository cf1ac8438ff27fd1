// Wiring of the bridge pod network (`cni: bridge` only; owner `workers`): every node's
// routes to the other nodes' pod subnets, and on each kubelet node the bridge CNI
// configuration. Depends on: cluster/builder, worker/pod-network.
import { kubeletNodes } from "../../config";
import { planPodBridge, planPodNetwork } from "../../worker/pod-network";
import { NodeSteps, PlanBuilder } from "../builder";

export function wirePodNetwork(b: PlanBuilder, prep: NodeSteps, artifacts: NodeSteps): { bridge: NodeSteps } {
  const c = b.config;
  if (c.addons.cni !== "bridge") return { bridge: {} };
  const routes = b.hostLayer("pod-network", "workers", "none", c.nodes.map((n) => planPodNetwork(c, n)));
  for (const [n, s] of Object.entries(routes)) b.edge(s.id, prep[n].id, "node prep installed iproute2");
  const bridge = b.hostLayer("pod-bridge", "workers", "none", kubeletNodes(c).map((n) => planPodBridge(c, n)));
  for (const [n, s] of Object.entries(bridge)) {
    b.edge(s.id, artifacts[n].id, "the CNI plugins");
    // a stack from before the two steps: pod-network's replacement first deletes the old
    // step, which held the bridge configuration too
    b.edge(s.id, routes[n].id, "after the node's routes step (which held the bridge configuration in earlier versions)");
  }
  return { bridge };
}
