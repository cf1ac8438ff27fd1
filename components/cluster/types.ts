// The plan's vocabulary: the kinds of step `up` takes (libvirt objects, readiness gates,
// host steps, the API gate, the Kubernetes provider, Kubernetes objects), the layers they
// belong to and how each layer rolls, the edges between steps with their reasons, and the
// whole ClusterPlan. Pure data: no Pulumi SDK.
// Depends on: config (the model), host/plan, vm/plan, addons/plan (what a step carries).
import { ClusterConfig, LastUp, NodeSpec } from "../config";
import { HostStepPlan } from "../host/plan";
import { LibvirtObjectPlan } from "../vm/plan";
import { EtcdMembership } from "../etcd/plan";
import { K8sObject } from "../addons/plan";

/**
 * Which nodes of a layer change one at a time on an update: every node ("all"), the
 * control-plane nodes in a chain with worker-only nodes in parallel beside it (restarting
 * containerd, the kubelet, kube-proxy or nginx does not stop running pods, and a chain over
 * every worker would make `up` grow with the cluster), or none. Only nodes that already run
 * the cluster roll: on creation there is nothing to protect.
 */
export type Rolling = "all" | "control-plane" | "none";

/** The named component a step sits under in `pulumi preview` (part of every URN: stable). */
export type Owner = "cluster" | "vms" | "nodes" | "etcd" | "kube-nginx" | "control-plane" | "workers" | "addons";

/** Every layer of the plan, in the order `up` reaches them. */
export const LAYERS = [
  "vm",
  "vm:ready",
  "footprint",
  "prep",
  "carryover",
  "artifacts",
  "etcd",
  "etcd-health",
  "etcd-membership",
  "etcd-snapshots",
  "kube-nginx",
  "control-plane",
  "admin-access",
  "pod-network",
  "pod-bridge",
  "containerd",
  "images",
  "upgrade-drain",
  "kubelet",
  "kube-proxy",
  "pod-teardown",
  "node",
  "upgrade-uncordon",
  "nodes-registered",
  "api-reachable",
  "addons",
] as const;

/** A layer's name (one of LAYERS): a typo does not compile. */
export type LayerName = (typeof LAYERS)[number];

interface StepBase {
  /** Unique in the plan; also the resource name. */
  id: string;
  layer: LayerName;
  owner: Owner;
  /** The node it acts on (SSH target or VM), if any. */
  node?: string;
  /**
   * Skip this step's delete when the cluster itself goes (a whole destroy): draining a node
   * or taking a member out of etcd is pointless then. The shipper ties it to the cluster
   * CA's key, which nothing but a whole destroy deletes (a replaced step would not do: the
   * engine counts a replacement's delete too).
   */
  deletedWithCluster?: boolean;
  /**
   * The step whose deletion makes this one's delete pointless: the disk of the node it
   * changes (lab VMs only). A whole destroy, or a node leaving with its VM, then skips undoing
   * files on a disk that is deleted anyway (and dialing a VM that may already be gone); a
   * step replaced on a node that stays still runs its delete.
   */
  deletedWith?: string;
  /**
   * Never undone: the machine it runs on is gone (lostMachines), so its delete could only
   * dial a machine that is no more. The shipper has the engine drop it from the stack when
   * it goes (retainOnDelete), which the next up records without running anything.
   */
  forgottenOnDelete?: boolean;
}

/** A libvirt object made with virsh on the machine running Pulumi. */
export interface LibvirtStep extends StepBase {
  kind: "libvirt";
  /** The object; the seed disk needs the SSH public key, known only at `up` (needsSshKey). */
  object: (sshPublicKey: string) => LibvirtObjectPlan;
  needsSshKey: boolean;
  /** The libvirt URI of the host it is made on (the object's uri, known before the key is). */
  uri: string;
  /** Steps whose replacement replaces this one too (a domain with its disks). */
  replacedWith: string[];
}

/** A node's readiness gate: SSH answers (and cloud-init finished, for lab VMs). */
export interface ReadyStep extends StepBase {
  kind: "ready";
  node: string;
  script: string;
  /** The libvirt URI of the node's host (its console log is there). */
  uri: string;
}

/** Files and a script shipped to one node over SSH. */
export interface HostStep extends StepBase {
  kind: "host";
  node: string;
  plan: HostStepPlan;
  /** wipeDataOnDestroy: counted in the step's trigger; the data itself goes with the node's footprint (existing machines) or its disk. */
  wipeData: boolean;
  /**
   * A membership (a Node object, an etcd member): made once for the node's life in the
   * cluster. A new machine behind the node it runs on (rebuildNodes) changes its triggers
   * but must not replace it: the replacement would first run its delete, which drains the
   * node or takes the member out. The shipper has the engine ignore trigger changes; what
   * such a step depends on that a new machine could change (an etcd member's address) is
   * refused by the rules against the last up instead.
   */
  keptOnNewMachine?: boolean;
}

/** A script on the machine running Pulumi (the API gate before the addons). */
export interface LocalGateStep extends StepBase {
  kind: "local-gate";
  script: string;
  triggers: string[];
}

/** The Kubernetes provider: configured from the admin kubeconfig once the API answers. */
export interface ApiProviderStep extends StepBase {
  kind: "kubernetes-provider";
  server: string;
}

/** One Kubernetes object applied through the API. */
export interface ObjectStep extends StepBase {
  kind: "kubernetes-object";
  group: string;
  object: K8sObject;
  /** Shared with the workload that writes it too: applied as a server-side patch (created or taken over, left when dropped). */
  sharedWithWorkload?: boolean;
}

export type PlannedStep = LibvirtStep | ReadyStep | HostStep | LocalGateStep | ApiProviderStep | ObjectStep;

/** `after` waits for `before`, for `reason`. */
export interface Edge {
  after: string;
  before: string;
  reason: string;
  /** Only there to roll an update one node at a time (not on the first `up`). */
  rolling?: boolean;
}

export interface PlannedLayer {
  name: LayerName;
  owner: Owner;
  rolling: Rolling;
  /** Step ids, in plan order. */
  steps: string[];
}

export interface ClusterPlan {
  config: ClusterConfig;
  /** etcd's members across this `up` (recorded in the lastUp output). */
  etcd: EtcdMembership;
  /** In an order that respects every edge. */
  steps: PlannedStep[];
  layers: PlannedLayer[];
  edges: Edge[];
}

export interface PlanOptions {
  /** Nodes that already run the cluster (the previous `up`): only they roll. Default: none. */
  established?: ReadonlySet<string>;
  /** What the last `up` recorded (etcd members and how each started). Default: nothing recorded. */
  lastUp?: LastUp;
}

/** Does this node's step wait for the previous one in its layer's chain? */
export function rollsWith(rolling: Rolling, node: NodeSpec, established: ReadonlySet<string>): boolean {
  return established.has(node.name) && (rolling === "all" || (rolling === "control-plane" && node.roles.has("control-plane")));
}

/** The id of a node's host step in a layer. */
export const stepId = (layer: LayerName, node: string) => `${layer}-${node}`;
