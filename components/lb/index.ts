// lb layer: ships kube-nginx to every node; control-plane nodes one at a time, so a change
// never takes every path to the apiservers down at once. Depends on: config, host, lb/plan.
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig } from "../config";
import { HostStep, NodeAccess, shipSteps } from "../host";
import { planKubeNginx } from "./plan";

export * from "./plan";

export interface KubeNginxArgs {
  /** The checked cluster model. */
  cluster: ClusterConfig;
  /** SSH login for every node. */
  access: NodeAccess;
  /** Per node: the steps that must be done first (node prep installs nginx). */
  after: (node: string) => pulumi.Input<pulumi.Resource>[];
  /** Nodes that already run the cluster: only their steps roll (default: none, the first `up`). */
  established?: ReadonlySet<string>;
}

export class KubeNginx extends pulumi.ComponentResource {
  readonly proxies: Readonly<Record<string, HostStep>>;

  constructor(name: string, args: KubeNginxArgs, opts?: pulumi.ComponentResourceOptions) {
    super("k8slab:lb:KubeNginx", name, {}, opts);
    const c = args.cluster;
    this.proxies = shipSteps(c, c.nodes.map((n) => planKubeNginx(c, n)), { access: args.access, after: args.after, rolling: "control-plane", established: args.established }, this);
    this.registerOutputs({});
  }
}
