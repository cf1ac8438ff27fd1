// The cluster plan: the whole of `pulumi up` as one piece of data — every VM object, every
// host step on every node, the gates, the addon objects — with the dependency edges between
// them, each with its reason, and the rolling rule of each layer. planCluster below is the
// table of contents: one wiring call per layer, in the order `up` reaches them, stopping
// after the stage the config stands up to (upTo); each
// layer's steps and edges are in its wiring module (cluster/layers/*), over the layer's own
// plans. The shipper (cluster/index.ts) turns the plan into resources and `dependsOn`; the
// render prints the runbook, the critical path and the SSH sessions per node from it.
// Pure (no Pulumi SDK). Depends on: config, cluster/builder, cluster/layers/*.
import { ClusterConfig, reaches } from "../config";
import { PlanBuilder } from "./builder";
import { ClusterPlan, PlanOptions } from "./types";
import { wireVms } from "./layers/vms";
import { wireNodeBase } from "./layers/node-base";
import { wireEtcd } from "./layers/etcd";
import { wireKubeNginx } from "./layers/kube-nginx";
import { wireControlPlane } from "./layers/control-plane";
import { wireAdminAccess, wireNodesRegistered } from "./layers/cluster-gates";
import { wirePodNetwork } from "./layers/pod-network";
import { wireRuntime } from "./layers/runtime";
import { wireNodeMembership, wireUpgradeDrain, wireUpgradeUncordon } from "./layers/node-lifecycle";
import { wireKubeProxy, wireKubelet } from "./layers/kubelet";
import { wireAddons } from "./layers/addons";
import { wireFootprint, wirePodTeardown } from "./layers/existing-machines";

export * from "./types";
export * from "./graph";


/** The whole cluster: steps, layers, edges with reasons. Pure; throws on a programming error (unknown key material, a cycle). */
export function planCluster(c: ClusterConfig, o: PlanOptions = {}): ClusterPlan {
  const b = new PlanBuilder(c, o);
  // the machines (stage vms; the PKI, stage pki, is issued by the shipper, not planned)
  const ready = wireVms(b);
  if (!reaches(c, "etcd")) return b.finish();
  // what every node needs first, then etcd
  const { prep, artifacts } = wireNodeBase(b, ready);
  const etcd = wireEtcd(b, artifacts);
  // on machines the program did not make, each node's footprint comes before all its steps
  const finish = () => {
    wireFootprint(b, ready);
    return b.finish(etcd.members);
  };
  if (!reaches(c, "kube-nginx")) return finish();
  const kubeNginx = wireKubeNginx(b, prep);
  if (!reaches(c, "control-plane")) return finish();
  // the control plane and the admin group's binding
  const controlPlane = wireControlPlane(b, artifacts, etcd.health);
  const adminAccess = wireAdminAccess(b, controlPlane);
  if (!reaches(c, "workers")) return finish();
  // what a node needs to run pods
  const { bridge } = wirePodNetwork(b, prep, artifacts);
  const { containerd, images } = wireRuntime(b, artifacts);
  const drain = wireUpgradeDrain(b, { adminAccess, containerd });
  const kubelet = wireKubelet(b, { containerd, images, bridge, kubeNginx, controlPlane, drain });
  const kubeProxy = wireKubeProxy(b, { kubelet, kubeNginx, controlPlane });
  const teardown = wirePodTeardown(b, { containerd, images, bridge, kubelet, kubeProxy });
  wireNodeMembership(b, { kubelet, kubeProxy, adminAccess, teardown });
  wireUpgradeUncordon(b, { kubelet, kubeProxy, adminAccess, drain });
  // every node in, then the addons through the Kubernetes API
  const registered = wireNodesRegistered(b, kubelet, adminAccess);
  if (!reaches(c, "addons")) return finish();
  wireAddons(b, { registered, kubeProxy });
  return finish();
}
