// Control-plane layer: ships kube-apiserver, kube-controller-manager and kube-scheduler to
// every control-plane node, one node at a time (each gated on its own /readyz), with the
// Secrets encryption key generated here and kept secret. Depends on: config, host, pki,
// etcd (health gate), control-plane/plan.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ClusterConfig, nodesWith } from "../config";
import { HostStep, MaterialRef, MaterialResolver, NodeAccess, shipSteps } from "../host";
import { encryptionConfig, planAdminAccess, planControlPlane, planNodesRegistered } from "./plan";

export * from "./plan";

export interface ControlPlaneArgs {
  /** The checked cluster model. */
  cluster: ClusterConfig;
  /** SSH login for every node. */
  access: NodeAccess;
  /** Certificates, keys and kubeconfigs (from the PKI layer). */
  material: MaterialResolver;
  /** Per node: what must be done first (artifacts, the etcd health gate). */
  after: (node: string) => pulumi.Input<pulumi.Resource>[];
  /** Nodes that already run the cluster: only their steps roll (default: none, the first `up`). */
  established?: ReadonlySet<string>;
}

export class ControlPlane extends pulumi.ComponentResource {
  readonly nodes: Readonly<Record<string, HostStep>>;
  /** The Secrets encryption configuration (secret). */
  readonly encryptionConfig: pulumi.Output<string>;

  constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
    super("k8slab:control-plane:ControlPlane", name, {}, opts);
    const c = args.cluster;
    const key = new random.RandomBytes("secrets-encryption-key", { length: 32 }, { parent: this });
    this.encryptionConfig = pulumi.secret(key.base64.apply(encryptionConfig));
    const material: MaterialResolver = (ref: MaterialRef) => (ref === "secret:encryption-config" ? this.encryptionConfig : args.material(ref));
    this.nodes = shipSteps(c, nodesWith(c, "control-plane").map((n) => planControlPlane(c, n)), { access: args.access, material, after: args.after, rolling: "all", established: args.established }, this);
    this.registerOutputs({});
  }
}

/** The admin certificate's group bound to cluster-admin, after every control-plane node is up. */
export function adminAccess(args: NodesRegisteredArgs, parent?: pulumi.Resource): HostStep {
  return new HostStep("admin-access", { plan: planAdminAccess(args.cluster), access: args.access, material: args.material }, { parent, dependsOn: args.after });
}

export interface NodesRegisteredArgs {
  cluster: ClusterConfig;
  access: NodeAccess;
  material: MaterialResolver;
  /** What must be done first (every control-plane step; every kubelet step and admin access). */
  after: pulumi.Input<pulumi.Resource>[];
}

/** The cluster gate: every node registered with the apiservers. */
export function nodesRegistered(args: NodesRegisteredArgs, parent?: pulumi.Resource): HostStep {
  return new HostStep("nodes-registered", { plan: planNodesRegistered(args.cluster), access: args.access, material: args.material }, { parent, dependsOn: args.after });
}
