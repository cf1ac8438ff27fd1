// Wiring of kube-nginx (owner `kube-nginx`): the local layer-4 proxy to every apiserver on
// every node — nginx, or haproxy with active /readyz checks (localProxy) — once it is
// installed; control-plane nodes one at a time on a running cluster. Depends on:
// cluster/builder, kube-nginx.
import { planKubeNginx } from "../../kube-nginx/plan";
import { planKubeHaproxy } from "../../kube-nginx/haproxy";
import { NodeSteps, PlanBuilder } from "../builder";

export function wireKubeNginx(b: PlanBuilder, prep: NodeSteps): NodeSteps {
  const c = b.config;
  const plan = c.network.localProxy === "haproxy" ? planKubeHaproxy : planKubeNginx;
  const kubeNginx = b.hostLayer("kube-nginx", "kube-nginx", "control-plane", c.nodes.map((n) => plan(c, n)));
  for (const n of c.nodes) b.edge(kubeNginx[n.name].id, prep[n.name].id, `${c.network.localProxy} is installed by node prep`);
  return kubeNginx;
}
