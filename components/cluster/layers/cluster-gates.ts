// Wiring of the two steps that belong to the whole cluster, under the cluster layer (owner `cluster`,
// run on the first control-plane node): admin-access (the admin group's binding, once every
// apiserver serves) and nodes-registered (every kubelet node has registered). Depends on:
// cluster/builder, cluster/cluster-steps.
import { planAdminAccess, planNodesRegistered } from "../cluster-steps";
import { NodeSteps, PlanBuilder, ids } from "../builder";
import { HostStep } from "../types";

export function wireAdminAccess(b: PlanBuilder, controlPlane: NodeSteps): HostStep {
  const adminAccess = b.single("admin-access", "cluster", planAdminAccess(b.config));
  b.each(adminAccess.id, ids(controlPlane), (x) => `the apiserver on ${x.replace("control-plane-", "")} serves the binding`);
  return adminAccess;
}

export function wireNodesRegistered(b: PlanBuilder, kubelet: NodeSteps, adminAccess: HostStep): HostStep {
  const registered = b.single("nodes-registered", "cluster", planNodesRegistered(b.config));
  b.each(registered.id, ids(kubelet), (x) => `${x} registers its node`);
  b.edge(registered.id, adminAccess.id, "the gate asks as admin");
  return registered;
}
