// Wiring of each node's life in the cluster (owner `workers`; every step runs as admin on a
// control-plane node, named for the node it acts on): the upgrade's drain before a running
// node's containerd or kubelet moves to another release and its uncordon after, one running
// node at a time (run round-robin by the control-plane nodes); and the node's membership, on
// the first control-plane node — it waits for the node to register, and when the node leaves
// the config it is drained and its Node object deleted before its kubelet and VM go (not in
// a whole destroy: the control plane goes too). Depends on: cluster/builder, worker/node-lifecycle.
import { kubeletNodes, runtimeMoves } from "../../config";
import { planNodeMembership, planUpgradeDrain, planUpgradeUncordon, upgradeRunner } from "../../worker/node-lifecycle";
import { NodeSteps, PlanBuilder } from "../builder";
import { HostStep } from "../types";

export function wireUpgradeDrain(b: PlanBuilder, x: { adminAccess: HostStep; containerd: NodeSteps }): NodeSteps {
  const c = b.config;
  const drain = b.aboutEachNode("upgrade-drain", "workers", kubeletNodes(c), (n) => planUpgradeDrain(c, n, upgradeRunner(c, n)));
  for (const [n, s] of Object.entries(drain)) {
    b.edge(s.id, x.adminAccess.id, "kubectl as admin (the admin group's binding)");
    // a node that runs pods is drained before its runtime restarts; a new node runs none
    // (its runtime need not wait for the control plane)
    if (b.established.has(n)) b.edge(x.containerd[n].id, s.id, "drained before its runtime moves to another release");
  }
  return drain;
}

export function wireNodeMembership(b: PlanBuilder, x: { kubelet: NodeSteps; kubeProxy: NodeSteps; adminAccess: HostStep; teardown: NodeSteps }): NodeSteps {
  const c = b.config;
  const membership = b.aboutEachNode("node", "workers", kubeletNodes(c), (n) => planNodeMembership(c, n), { deletedWithCluster: true, keptOnNewMachine: true });
  for (const [n, s] of Object.entries(membership)) {
    b.edge(s.id, x.kubelet[n].id, "waits for its kubelet to register the node; drained before its kubelet stops");
    b.edge(s.id, x.kubeProxy[n].id, "drained before kube-proxy stops routing its pods' Services");
    b.edge(s.id, x.adminAccess.id, "kubectl as admin (the admin group's binding)");
    b.edge(s.id, x.teardown[n]?.id, "drained through the API before its pods are torn down on the machine");
  }
  return membership;
}

export function wireUpgradeUncordon(b: PlanBuilder, x: { kubelet: NodeSteps; kubeProxy: NodeSteps; adminAccess: HostStep; drain: NodeSteps }): NodeSteps {
  const c = b.config;
  const uncordon = b.aboutEachNode("upgrade-uncordon", "workers", kubeletNodes(c), (n) => planUpgradeUncordon(c, n, upgradeRunner(c, n)));
  for (const [n, s] of Object.entries(uncordon)) {
    b.edge(s.id, x.kubelet[n].id, "its kubelet runs the release");
    b.edge(s.id, x.kubeProxy[n].id, "its kube-proxy runs the release");
    b.edge(s.id, x.adminAccess.id, "kubectl as admin (the admin group's binding)");
  }
  // an upgrade of the kubelet or the runtime drains one running node at a time, whatever its roles
  const last = b.options.lastUp;
  const moves = [
    ...(last && last.kubernetesVersion !== c.versions.kubernetes ? [`Kubernetes ${last.kubernetesVersion} → ${c.versions.kubernetes}`] : []),
    ...(runtimeMoves(c, last) ? [last!.releases ? `containerd ${last!.releases.containerd} → ${c.versions.containerd}, runc ${last!.releases.runc} → ${c.versions.runc}` : `runtime (not recorded) → containerd ${c.versions.containerd}, runc ${c.versions.runc}`] : []),
  ];
  if (moves.length) {
    const running = kubeletNodes(c).filter((n) => b.established.has(n.name));
    for (let i = 1; i < running.length; i++) {
      b.rollingEdge(x.drain[running[i].name].id, uncordon[running[i - 1].name].id, `upgrade (${moves.join("; ")}): one node drained at a time`);
    }
  }
  return uncordon;
}
