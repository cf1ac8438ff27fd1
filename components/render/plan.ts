// The whole cluster's host plan in the order `pulumi up` ships it: every layer's
// HostStepPlans, grouped in waves (steps in a wave may run in parallel; rolling layers are
// one node per wave). The render command and the tests read the same plans the
// components ship. Depends on: config, host, etcd, lb, control-plane, worker.
import { ClusterConfig, kubeletNodes, nodesWith } from "../config";
import { HostStepPlan, MaterialRef, Rolling, planArtifacts, planNodePrep } from "../host";
import { planEtcdHealthGate, planEtcdMember } from "../etcd/plan";
import { planKubeNginx } from "../lb/plan";
import { planAdminAccess, planControlPlane, planNodesRegistered } from "../control-plane/plan";
import { planContainerd, planKubeProxy, planKubelet } from "../worker/plan";
import { planPodNetwork } from "../worker/pod-network";
import { planImages } from "../worker/images";

export interface PlannedLayer {
  layer: string;
  /** Which nodes ship one at a time (see host/shipSteps). */
  rolling: Rolling;
  steps: HostStepPlan[];
}

export function planHostLayers(c: ClusterConfig): PlannedLayer[] {
  return [
    { layer: "prep", rolling: "none", steps: c.nodes.map((n) => planNodePrep(c, n)) },
    { layer: "artifacts", rolling: "none", steps: c.nodes.map((n) => planArtifacts(c, n)) },
    { layer: "kube-nginx", rolling: "control-plane", steps: c.nodes.map((n) => planKubeNginx(c, n)) },
    { layer: "etcd", rolling: "all", steps: nodesWith(c, "etcd").map((n) => planEtcdMember(c, n)) },
    { layer: "etcd-health", rolling: "none", steps: [planEtcdHealthGate(c)] },
    { layer: "control-plane", rolling: "all", steps: nodesWith(c, "control-plane").map((n) => planControlPlane(c, n)) },
    { layer: "admin-access", rolling: "none", steps: [planAdminAccess(c)] },
    ...(c.addons.cni === "bridge" ? [{ layer: "pod-network", rolling: "none" as const, steps: c.nodes.map((n) => planPodNetwork(c, n)) }] : []),
    { layer: "containerd", rolling: "control-plane", steps: kubeletNodes(c).map((n) => planContainerd(c, n)) },
    ...(c.registry.archives.length ? [{ layer: "images", rolling: "none" as const, steps: kubeletNodes(c).map((n) => planImages(c, n)) }] : []),
    { layer: "kubelet", rolling: "control-plane", steps: kubeletNodes(c).map((n) => planKubelet(c, n)) },
    { layer: "kube-proxy", rolling: "control-plane", steps: kubeletNodes(c).map((n) => planKubeProxy(c, n)) },
    { layer: "nodes-registered", rolling: "none", steps: [planNodesRegistered(c)] },
  ];
}

export function allHostSteps(c: ClusterConfig): HostStepPlan[] {
  return planHostLayers(c).flatMap((l) => l.steps);
}

/** Clearly marked stand-ins for key material, for rendering without a PKI. */
export function placeholderMaterial(ref: MaterialRef): string {
  return `-----BEGIN K8S-LAB PLACEHOLDER-----\n${ref} (issued by pulumi up)\n-----END K8S-LAB PLACEHOLDER-----\n`;
}
