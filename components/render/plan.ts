// The whole cluster's host plan in the order `pulumi up` ships it: every layer's
// HostStepPlans, grouped in waves (steps in a wave may run in parallel; rolling layers are
// one node per wave). The render command and the tests read the same plans the
// components ship. Depends on: config, host, etcd, lb, control-plane, worker.
import { ClusterConfig, nodesWith } from "../config";
import { HostStepPlan, MaterialRef, planArtifacts, planNodePrep } from "../host";
import { planEtcdHealthGate, planEtcdMember } from "../etcd/plan";
import { planKubeNginx } from "../lb/plan";
import { planControlPlane, planNodesRegistered } from "../control-plane/plan";
import { planContainerd, planKubeProxy, planKubelet } from "../worker/plan";

export interface PlannedLayer {
  layer: string;
  /** Ships one node at a time (a change restarts one node at a time). */
  rolling: boolean;
  steps: HostStepPlan[];
}

export function planHostLayers(c: ClusterConfig): PlannedLayer[] {
  return [
    { layer: "prep", rolling: false, steps: c.nodes.map((n) => planNodePrep(c, n)) },
    { layer: "artifacts", rolling: false, steps: c.nodes.map((n) => planArtifacts(c, n)) },
    { layer: "kube-nginx", rolling: true, steps: c.nodes.map((n) => planKubeNginx(c, n)) },
    { layer: "etcd", rolling: true, steps: nodesWith(c, "etcd").map((n) => planEtcdMember(c, n)) },
    { layer: "etcd-health", rolling: false, steps: [planEtcdHealthGate(c)] },
    { layer: "control-plane", rolling: true, steps: nodesWith(c, "control-plane").map((n) => planControlPlane(c, n)) },
    { layer: "containerd", rolling: true, steps: nodesWith(c, "worker").map((n) => planContainerd(c, n)) },
    { layer: "kubelet", rolling: true, steps: nodesWith(c, "worker").map((n) => planKubelet(c, n)) },
    { layer: "kube-proxy", rolling: true, steps: nodesWith(c, "worker").map((n) => planKubeProxy(c, n)) },
    { layer: "nodes-registered", rolling: false, steps: [planNodesRegistered(c)] },
  ];
}

export function allHostSteps(c: ClusterConfig): HostStepPlan[] {
  return planHostLayers(c).flatMap((l) => l.steps);
}

/** Clearly marked stand-ins for key material, for rendering without a PKI. */
export function placeholderMaterial(ref: MaterialRef): string {
  return `-----BEGIN K8S-LAB PLACEHOLDER-----\n${ref} (issued by pulumi up)\n-----END K8S-LAB PLACEHOLDER-----\n`;
}
