// Wiring of the kubelet and kube-proxy on every kubelet node (owner `workers`; control-plane
// nodes one at a time on a running cluster, worker-only nodes beside that chain): the
// kubelet once its node's runtime, pod network, images and local proxy are in place and
// every apiserver serves; kube-proxy after its node's kubelet. Depends on: cluster/builder,
// worker.
import { kubeletNodes } from "../../config";
import { planKubeProxy, planKubelet } from "../../worker/plan";
import { NodeSteps, PlanBuilder, ids } from "../builder";

export interface KubeletInputs {
  containerd: NodeSteps;
  images: NodeSteps;
  bridge: NodeSteps;
  kubeNginx: NodeSteps;
  controlPlane: NodeSteps;
  /** The upgrade's drain of each node, which its kubelet waits for. */
  drain: NodeSteps;
}

export function wireKubelet(b: PlanBuilder, x: KubeletInputs): NodeSteps {
  const c = b.config;
  const kubelet = b.hostLayer("kubelet", "workers", "control-plane", kubeletNodes(c).map((n) => planKubelet(c, n)));
  for (const [n, s] of Object.entries(x.drain)) b.edge(kubelet[n].id, s.id, "drained before its kubelet moves to another release");
  for (const [n, s] of Object.entries(kubelet)) {
    b.edge(s.id, x.containerd[n].id, "the CRI socket");
    b.edge(s.id, x.bridge[n]?.id, "the bridge CNI configuration");
    b.edge(s.id, x.images[n]?.id, "the pause image, imported");
    b.edge(s.id, x.kubeNginx[n].id, "the kubelet reaches the apiservers through the local proxy");
    b.each(s.id, ids(x.controlPlane), (y) => `an apiserver to register with (${y})`);
  }
  return kubelet;
}

export function wireKubeProxy(b: PlanBuilder, x: { kubelet: NodeSteps; kubeNginx: NodeSteps; controlPlane: NodeSteps }): NodeSteps {
  const c = b.config;
  const kubeProxy = b.hostLayer("kube-proxy", "workers", "control-plane", kubeletNodes(c).map((n) => planKubeProxy(c, n)));
  for (const [n, s] of Object.entries(kubeProxy)) {
    b.edge(s.id, x.kubelet[n].id, "its Node object: kube-proxy reads the node's IPs from it (started first, it assumes loopback)");
    b.edge(s.id, x.kubeNginx[n].id, "kube-proxy reaches the apiservers through the local proxy");
    b.each(s.id, ids(x.controlPlane), (y) => `an apiserver to watch (${y})`);
  }
  return kubeProxy;
}
