// Wiring of the addons (owner `addons`): the gate on the machine running Pulumi once every
// node registered and routes Services, the Kubernetes provider behind it, and every addon
// object — the pod network's objects before everything else, each object after what it
// needs. Depends on: cluster/builder, addons/plan, pki (the admin endpoint).
import { K8sObject, apiReachableScript, planAddons, prerequisitesOf, resourceName } from "../../addons/plan";
import { apiserverUrls } from "../../pki/plan";
import { NodeSteps, PlanBuilder, ids } from "../builder";
import { ApiProviderStep, HostStep, LocalGateStep, ObjectStep } from "../types";

export function wireAddons(b: PlanBuilder, x: { registered: HostStep; kubeProxy: NodeSteps }): void {
  const c = b.config;
  const server = apiserverUrls(c).external;
  const gate = b.add<LocalGateStep>({ id: "api-reachable", kind: "local-gate", layer: "api-reachable", owner: "addons", script: apiReachableScript(server), triggers: [server] });
  b.edge(gate.id, x.registered.id, "every node registered");
  b.each(gate.id, ids(x.kubeProxy), (y) => `Service routing on every node (${y})`);
  b.layer("api-reachable", "addons", "none", [gate]);
  const provider = b.add<ApiProviderStep>({ id: `${c.name}-api`, kind: "kubernetes-provider", layer: "addons", owner: "addons", server });
  b.edge(provider.id, gate.id, "a provider configured while the API is unreachable caches that for the whole run");

  const groups = planAddons(c);
  const labVms = c.hypervisor.mode === "libvirt";
  // a lost machine behind the admin endpoint: the objects cannot be deleted through it
  const ep = c.network.apiserverEndpoint;
  const endpointNode = ep ? c.nodes.find((n) => n.ip === ep.host || n.name === ep.host) : c.adminNode;
  const unreachable = endpointNode !== undefined && c.lostMachines.includes(endpointNode.name);
  const everyObject = groups.flatMap((g) => g.objects);
  const objectIds = new Map<K8sObject, string>();
  const objectSteps: ObjectStep[] = [];
  let cni: string[] = [];
  for (const g of groups) {
    const created: string[] = [];
    const shared = new Set(g.sharedWithWorkload ?? []);
    for (const o of shared) if (!g.objects.includes(o)) throw new Error(`addons: ${g.name} shares ${resourceName(o)} with its workload, but does not plan it`);
    for (const object of g.objects) {
      // lab VMs: a whole destroy deletes the machines, and the objects with them
      const s = b.add<ObjectStep>({ id: resourceName(object), kind: "kubernetes-object", layer: "addons", owner: "addons", group: g.name, object, ...(shared.has(object) ? { sharedWithWorkload: true } : {}), ...(labVms ? { deletedWithCluster: true } : {}), ...(unreachable ? { forgottenOnDelete: true } : {}) });
      objectSteps.push(s);
      b.edge(s.id, gate.id, "the Kubernetes API answers from this machine");
      b.each(s.id, cni, (y) => `the pod network first: pods stay Pending without it (${y})`);
      for (const p of prerequisitesOf(object, everyObject)) {
        const first = objectIds.get(p.object);
        if (!first) throw new Error(`addons: ${s.id} needs ${resourceName(p.object)} first (${p.reason}), but it is planned after it`);
        b.edge(s.id, first, p.reason);
      }
      objectIds.set(object, s.id);
      created.push(s.id);
    }
    if (g.name === "cni") cni = created;
  }
  b.layer("addons", "addons", "none", objectSteps);
}
