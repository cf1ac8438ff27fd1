// Wiring of what a machine the program did not make needs so that the node's removal (or
// `pulumi destroy`) leaves it as it was (hostMode: existing; a lab VM's disk goes instead):
// on each kubelet node the pod teardown (owner `workers`), created after its runtime,
// kubelet and kube-proxy so that its delete — every pod stopped, mounts and rules gone —
// runs before theirs; and on every node its footprint (owner `nodes`), created before any
// other step of the node so that its delete — the directories the cluster made, where
// empty, and the packages node prep installed — runs after all of theirs. Depends on:
// cluster/builder, host/footprint, node-prep, worker/plan.
import { kubeletNodes } from "../../config";
import { planFootprint, PrepPackages } from "../../host/footprint";
import { packagesFor } from "../../node-prep/prep";
import { planPodTeardown } from "../../worker/plan";
import { NodeSteps, PlanBuilder } from "../builder";
import { HostStep } from "../types";
import { ReadyGates } from "./vms";

export function wirePodTeardown(b: PlanBuilder, x: { containerd: NodeSteps; images: NodeSteps; bridge: NodeSteps; kubelet: NodeSteps; kubeProxy: NodeSteps }): NodeSteps {
  if (b.config.hypervisor.mode !== "existing") return {};
  const teardown = b.hostLayer("pod-teardown", "workers", "none", kubeletNodes(b.config).map((n) => planPodTeardown(b.config, n)));
  for (const [n, s] of Object.entries(teardown)) {
    b.edge(s.id, x.kubelet[n].id, "stops the kubelet's pods before the kubelet's delete");
    b.edge(s.id, x.kubeProxy[n].id, "clears kube-proxy's rules while its binary is there");
    b.edge(s.id, x.containerd[n].id, "removes the pods through the runtime, before containerd stops");
    b.edge(s.id, x.images[n]?.id, "the pods go before their images");
    b.edge(s.id, x.bridge[n]?.id, "the pods leave the bridge before it goes");
  }
  return teardown;
}

/** What node prep may install on a machine (nothing with skipPackageInstall). */
const prepPackages = (c: PlanBuilder["config"]): PrepPackages | undefined =>
  c.hypervisor.skipPackageInstall ? undefined : { debian: packagesFor(c, "debian"), rhel: packagesFor(c, "rhel") };

/** The footprint of every node, over every host step the plan put on it so far: call it last. */
export function wireFootprint(b: PlanBuilder, ready: ReadyGates): NodeSteps {
  const c = b.config;
  if (c.hypervisor.mode !== "existing") return {};
  const onNode = (n: string) => b.steps.filter((s): s is HostStep => s.kind === "host" && s.plan.node === n);
  const mine = c.nodes.map((n) => ({ n, steps: onNode(n.name) })).filter((x) => x.steps.length);
  const footprint = b.hostLayer("footprint", "nodes", "none", mine.map((x) => planFootprint(x.n, x.steps.map((s) => s.plan), c.wipeDataOnDestroy, prepPackages(c))));
  for (const { n, steps } of mine) {
    b.edge(footprint[n.name].id, ready[n.name], "SSH answers");
    for (const s of steps) b.edge(s.id, footprint[n.name].id, "the machine's directories are recorded before the cluster makes any (and removed after every other delete)");
  }
  return footprint;
}
