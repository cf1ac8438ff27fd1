// Worker layer: ships containerd, the kubelet and kube-proxy to every worker node. Each
// is its own step per node; on control-plane nodes they roll one node at a time, worker-only
// nodes follow in parallel. A kubelet setting restarts kubelets only. Depends on: config, host, pki, worker/plan.
import { planPodNetwork } from "./pod-network";
import { planImages } from "./images";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, kubeletNodes } from "../config";
import { HostStep, MaterialResolver, NodeAccess, shipSteps } from "../host";
import { planContainerd, planKubeProxy, planKubelet } from "./plan";

export * from "./plan";
export * from "./pod-network";
export * from "./images";

export interface WorkersArgs {
  /** The checked cluster model. */
  cluster: ClusterConfig;
  /** SSH login for every node. */
  access: NodeAccess;
  /** Certificates, keys and kubeconfigs (from the PKI layer). */
  material: MaterialResolver;
  /** Per node: what containerd needs first (artifacts). */
  afterRuntime: (node: string) => pulumi.Input<pulumi.Resource>[];
  /** Per node: what the kubelet and kube-proxy need first (local proxy, control plane). */
  afterAgents: (node: string) => pulumi.Input<pulumi.Resource>[];
  /** Nodes that already run the cluster: only their steps roll (default: none, the first `up`). */
  established?: ReadonlySet<string>;
}

export class Workers extends pulumi.ComponentResource {
  readonly containerd: Readonly<Record<string, HostStep>>;
  /** imageArchiveDir only: the images imported into containerd. */
  readonly images: Readonly<Record<string, HostStep>>;
  /** cni: bridge only: the pod subnet routes (every node) and CNI config (workers). */
  readonly podNetwork: Readonly<Record<string, HostStep>>;
  readonly kubelets: Readonly<Record<string, HostStep>>;
  readonly kubeProxies: Readonly<Record<string, HostStep>>;

  constructor(name: string, args: WorkersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("k8slab:worker:Workers", name, {}, opts);
    const c = args.cluster;
    const workers = kubeletNodes(c);
    const ship = { access: args.access, material: args.material, wipeData: c.wipeDataOnDestroy, rolling: "control-plane" as const, established: args.established };
    this.containerd = shipSteps(c, workers.map((n) => planContainerd(c, n)), { ...ship, after: args.afterRuntime }, this);
    this.podNetwork = c.addons.cni === "bridge" ? shipSteps(c, c.nodes.map((n) => planPodNetwork(c, n)), { ...ship, rolling: "none", after: args.afterRuntime }, this) : {};
    this.images = c.registry.archives.length ? shipSteps(c, workers.map((n) => planImages(c, n)), { ...ship, rolling: "none", after: (n) => [this.containerd[n]] }, this) : {};
    const podNetwork = (n: string) => [...(this.podNetwork[n] ? [this.podNetwork[n]] : []), ...(this.images[n] ? [this.images[n]] : [])];
    this.kubelets = shipSteps(c, workers.map((n) => planKubelet(c, n)), { ...ship, after: (n) => [this.containerd[n], ...podNetwork(n), ...args.afterAgents(n)] }, this);
    // kube-proxy reads its node's IPs from the Node object the kubelet registers: after it
    // (started first, it waits 30 s for the Node, then assumes loopback)
    this.kubeProxies = shipSteps(c, workers.map((n) => planKubeProxy(c, n)), { ...ship, after: (n) => [this.kubelets[n], ...args.afterAgents(n)] }, this);
    this.registerOutputs({});
  }
}
