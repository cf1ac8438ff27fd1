// etcd layer: ships one member per etcd node (rolling: a change restarts one member at a
// time, each healthy again before the next) and the cluster health gate that the control
// plane waits on. Depends on: config, host, pki (material), etcd/plan.
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, nodesWith } from "../config";
import { HostStep, MaterialResolver, NodeAccess, shipSteps } from "../host";
import { planEtcdHealthGate, planEtcdMember } from "./plan";

export * from "./plan";

export interface EtcdClusterArgs {
  /** The checked cluster model. */
  cluster: ClusterConfig;
  /** SSH login for every node. */
  access: NodeAccess;
  /** Certificates and keys (from the PKI layer). */
  material: MaterialResolver;
  /** Per node: the steps that must be done first (artifacts). */
  after: (node: string) => pulumi.Input<pulumi.Resource>[];
  /** Nodes that already run the cluster: only their steps roll (default: none, the first `up`). */
  established?: ReadonlySet<string>;
}

export class EtcdCluster extends pulumi.ComponentResource {
  /** One step per member, by node name. */
  readonly members: Readonly<Record<string, HostStep>>;
  /** Every member healthy: later layers depend on this. */
  readonly healthy: HostStep;

  constructor(name: string, args: EtcdClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("k8slab:etcd:EtcdCluster", name, {}, opts);
    const c = args.cluster;
    const plans = nodesWith(c, "etcd").map((n) => planEtcdMember(c, n));
    this.members = shipSteps(c, plans, { access: args.access, material: args.material, wipeData: c.wipeDataOnDestroy, after: args.after, rolling: "all", established: args.established }, this);
    this.healthy = new HostStep(`etcd-health`, { plan: planEtcdHealthGate(c), access: args.access, material: args.material }, { parent: this, dependsOn: Object.values(this.members) });
    this.registerOutputs({});
  }
}
