// Host layer: the host step (files + script over SSH, hash-triggered, undone on delete)
// and the two steps every node gets first — node prep and artifact delivery. Other layers
// (etcd, lb, control-plane, worker) plan their own steps and ship them with HostStep.
// Depends on: config, host/*.
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, NodeSpec } from "../config";
import { planArtifacts } from "./artifacts";
import { planNodePrep } from "./prep";
import { HostStepPlan } from "./plan";
import { HostStep, MaterialResolver, NodeAccess } from "./step";

export * from "./plan";
export * from "./step";
export * from "./prep";
export * from "./artifacts";
export * from "./systemd";
export * from "./established";

export type Rolling = "all" | "control-plane" | "none";

/**
 * Does this node's step wait for the previous one in the chain? Only a node that already
 * runs the cluster (established) rolls: on creation there is nothing to protect.
 */
export function rollsWith(rolling: Rolling, node: NodeSpec, established: ReadonlySet<string>): boolean {
  return established.has(node.name) && (rolling === "all" || (rolling === "control-plane" && node.roles.has("control-plane")));
}

export interface ShipOptions {
  /** SSH login for every node. */
  access: NodeAccess;
  /** Key material for the plans' references. */
  material?: MaterialResolver;
  /** Remove data directories on delete. Default: false. */
  wipeData?: boolean;
  /** Per node: what must exist before this node's steps (readiness, earlier layers). */
  after?: (node: string) => pulumi.Input<pulumi.Resource>[];
  /**
   * Which nodes ship one after the other, in plan order, so a change restarts them one at a
   * time: "all", "control-plane" (control-plane nodes in a chain, worker-only nodes in
   * parallel beside it — restarting containerd, the kubelet, kube-proxy or nginx does not
   * stop running pods, and a chain over every worker would make `up` grow with the cluster),
   * or "none". Default: "none".
   */
  rolling?: Rolling;
  /** Nodes that already run the cluster; only they roll. Default: none (first `up`). */
  established?: ReadonlySet<string>;
}

/** Ships plans as HostSteps named `<layer>-<node>`; returns them by node. */
export function shipSteps(c: ClusterConfig, plans: HostStepPlan[], o: ShipOptions, parent: pulumi.Resource): Record<string, HostStep> {
  const steps: Record<string, HostStep> = {};
  let previous: HostStep | undefined;
  for (const plan of plans) {
    const node = c.nodes.find((n) => n.name === plan.node)!;
    const chained = rollsWith(o.rolling ?? "none", node, o.established ?? new Set());
    const dependsOn: pulumi.Input<pulumi.Resource>[] = [...(o.after?.(plan.node) ?? [])];
    if (chained && previous) dependsOn.push(previous);
    const step = new HostStep(`${plan.layer}-${plan.node}`, { plan, access: o.access, material: o.material, wipeData: o.wipeData }, { parent, dependsOn });
    steps[plan.node] = step;
    if (chained) previous = step;
  }
  return steps;
}

export interface NodeBaseArgs {
  /** The checked cluster model. */
  cluster: ClusterConfig;
  /** SSH login for every node. */
  access: NodeAccess;
  /** Per node: what must be ready first (the VM layer's readiness gate). Default: nothing. */
  after?: (node: string) => pulumi.Input<pulumi.Resource>[];
}

/** Node prep, then artifacts, on every node in parallel. */
export class NodeBase extends pulumi.ComponentResource {
  readonly prep: Readonly<Record<string, HostStep>>;
  readonly artifacts: Readonly<Record<string, HostStep>>;

  constructor(name: string, args: NodeBaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("k8slab:host:NodeBase", name, {}, opts);
    const c = args.cluster;
    this.prep = shipSteps(c, c.nodes.map((n) => planNodePrep(c, n)), { access: args.access, after: args.after }, this);
    this.artifacts = shipSteps(c, c.nodes.map((n) => planArtifacts(c, n)), { access: args.access, after: (n) => [this.prep[n]] }, this);
    this.registerOutputs({});
  }
}
