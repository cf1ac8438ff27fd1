// The whole cluster's host plan in the order `pulumi up` ships it: every layer's
// HostStepPlans, grouped in waves (steps in a wave may run in parallel; rolling layers are
// one node per wave). The render command and the tests read the same plans the
// components ship. Depends on: config, host, etcd, lb.
import { ClusterConfig, nodesWith } from "../config";
import { HostStepPlan, MaterialRef, planArtifacts, planNodePrep } from "../host";
import { planEtcdHealthGate, planEtcdMember } from "../etcd/plan";
import { planKubeNginx } from "../lb/plan";

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
  ];
}

export function allHostSteps(c: ClusterConfig): HostStepPlan[] {
  return planHostLayers(c).flatMap((l) => l.steps);
}

/** Clearly marked stand-ins for key material, for rendering without a PKI. */
export function placeholderMaterial(ref: MaterialRef): string {
  return `-----BEGIN K8S-LAB PLACEHOLDER-----\n${ref} (issued by pulumi up)\n-----END K8S-LAB PLACEHOLDER-----\n`;
}
