// Wiring of the container runtime (owner `workers`): containerd on every kubelet node
// (control-plane nodes one at a time on a running cluster), then the image archives
// imported into it (`imageArchiveDir` only). Depends on: cluster/builder, worker.
import { kubeletNodes } from "../../config";
import { planContainerd } from "../../worker/plan";
import { planImages } from "../../worker/images";
import { NodeSteps, PlanBuilder } from "../builder";

export function wireRuntime(b: PlanBuilder, artifacts: NodeSteps): { containerd: NodeSteps; images: NodeSteps } {
  const c = b.config;
  const containerd = b.hostLayer("containerd", "workers", "control-plane", kubeletNodes(c).map((n) => planContainerd(c, n)));
  for (const [n, s] of Object.entries(containerd)) b.edge(s.id, artifacts[n].id, "containerd, runc and the CNI plugins");
  const images = c.registry.archives.length ? b.hostLayer("images", "workers", "none", kubeletNodes(c).map((n) => planImages(c, n))) : {};
  for (const [n, s] of Object.entries(images)) b.edge(s.id, containerd[n].id, "the archives are imported into containerd");
  return { containerd, images };
}
