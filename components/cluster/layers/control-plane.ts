// Wiring of the control plane (owner `control-plane`): kube-apiserver, controller-manager
// and scheduler on each control-plane node once etcd is healthy, one node at a time on a
// running cluster. Depends on: cluster/builder, control-plane.
import { nodesWith } from "../../config";
import { planControlPlane } from "../../control-plane/plan";
import { NodeSteps, PlanBuilder } from "../builder";
import { HostStep } from "../types";

export function wireControlPlane(b: PlanBuilder, artifacts: NodeSteps, etcdHealth: HostStep): NodeSteps {
  const c = b.config;
  const controlPlane = b.hostLayer("control-plane", "control-plane", "all", nodesWith(c, "control-plane").map((n) => planControlPlane(c, n)));
  for (const [n, s] of Object.entries(controlPlane)) {
    b.edge(s.id, artifacts[n].id, "the control-plane binaries");
    b.edge(s.id, etcdHealth.id, "kube-apiserver's storage: every etcd member healthy");
  }
  return controlPlane;
}
