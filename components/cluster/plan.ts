// The cluster plan: the whole of `pulumi up` as one piece of data — every VM object, every
// host step on every node, the gates, the addon objects — and the explicit dependency
// edges between them, each with its reason, plus the rolling rule of each layer. The
// shipper (cluster/index.ts) turns it into resources and `dependsOn`; the render prints
// the runbook, the critical path and the SSH sessions per node from it. Adding a layer
// means adding it here, once.
// Pure (no Pulumi SDK). Depends on: config, host, vm, pki, etcd, lb, control-plane, worker, addons (their plans).
import { ClusterConfig, LastUp, NodeSpec, kubeletNodes, nodesWith } from "../config";
import { HostStepPlan, materialRefs } from "../host/plan";
import { planNodePrep } from "../host/prep";
import { planArtifacts } from "../host/artifacts";
import { LibvirtObjectPlan, planBaseVolume, planCloudInitDisk, planDomain, planNetwork, planNodeAddress, planNodeVolume, planPool, readinessScript } from "../vm/plan";
import { MaterialRef, isIssued, materialName } from "../pki/material";
import { apiserverUrls, planPki } from "../pki/plan";
import { EtcdMembership, planEtcdHealthGate, planEtcdMember, planEtcdMembership, planEtcdMembershipOf, planEtcdSnapshots } from "../etcd/plan";
import { planKubeNginx } from "../lb/plan";
import { planAdminAccess, planControlPlane, planNodeMembership, planNodesRegistered, planUpgradeDrain, planUpgradeUncordon } from "../control-plane/plan";
import { planContainerd, planKubeProxy, planKubelet } from "../worker/plan";
import { planPodBridge, planPodNetwork } from "../worker/pod-network";
import { planImages } from "../worker/images";
import { K8sObject, apiReachableScript, planAddons, prerequisitesOf, resourceName } from "../addons/plan";

/**
 * Which nodes of a layer change one at a time on an update: every node ("all"), the
 * control-plane nodes in a chain with worker-only nodes in parallel beside it (restarting
 * containerd, the kubelet, kube-proxy or nginx does not stop running pods, and a chain over
 * every worker would make `up` grow with the cluster), or none. Only nodes that already run
 * the cluster roll: on creation there is nothing to protect.
 */
export type Rolling = "all" | "control-plane" | "none";

/** The named component a step sits under in `pulumi preview` (part of every URN: stable). */
export type Owner = "vms" | "nodes" | "etcd" | "kube-nginx" | "control-plane" | "workers" | "addons" | "stack";

interface StepBase {
  /** Unique in the plan; also the resource name. */
  id: string;
  layer: string;
  owner: Owner;
  /** The node it acts on (SSH target or VM), if any. */
  node?: string;
  /**
   * Skip this step's delete when the cluster itself goes (a whole destroy): draining a node
   * or taking a member out of etcd is pointless then. The shipper ties it to the cluster
   * CA's key, which nothing but a whole destroy deletes (a replaced step would not do: the
   * engine counts a replacement's delete too).
   */
  deletedWithCluster?: boolean;
}

/** A libvirt object made with virsh on the machine running Pulumi. */
export interface LibvirtStep extends StepBase {
  kind: "libvirt";
  /** The object; the seed disk needs the SSH public key, known only at `up` (needsSshKey). */
  object: (sshPublicKey: string) => LibvirtObjectPlan;
  needsSshKey: boolean;
  /** Steps whose replacement replaces this one too (a domain with its disks). */
  replacedWith: string[];
}

/** A node's readiness gate: SSH answers (and cloud-init finished, for lab VMs). */
export interface ReadyStep extends StepBase {
  kind: "ready";
  node: string;
  script: string;
}

/** Files and a script shipped to one node over SSH. */
export interface HostStep extends StepBase {
  kind: "host";
  node: string;
  plan: HostStepPlan;
  /** Also remove the step's data directories on delete. */
  wipeData: boolean;
}

/** A script on the machine running Pulumi (the API gate before the addons). */
export interface LocalGateStep extends StepBase {
  kind: "local-gate";
  script: string;
  triggers: string[];
}

/** The Kubernetes provider: configured from the admin kubeconfig once the API answers. */
export interface ApiProviderStep extends StepBase {
  kind: "kubernetes-provider";
  server: string;
}

/** One Kubernetes object applied through the API. */
export interface ObjectStep extends StepBase {
  kind: "kubernetes-object";
  group: string;
  object: K8sObject;
}

export type PlannedStep = LibvirtStep | ReadyStep | HostStep | LocalGateStep | ApiProviderStep | ObjectStep;

/** `after` waits for `before`, for `reason`. */
export interface Edge {
  after: string;
  before: string;
  reason: string;
  /** Only there to roll an update one node at a time (not on the first `up`). */
  rolling?: boolean;
}

export interface PlannedLayer {
  name: string;
  owner: Owner;
  rolling: Rolling;
  /** Step ids, in plan order. */
  steps: string[];
}

export interface ClusterPlan {
  config: ClusterConfig;
  /** etcd's members across this `up` (recorded in the lastUp output). */
  etcd: EtcdMembership;
  /** In an order that respects every edge. */
  steps: PlannedStep[];
  layers: PlannedLayer[];
  edges: Edge[];
}

export interface PlanOptions {
  /** Nodes that already run the cluster (the previous `up`): only they roll. Default: none. */
  established?: ReadonlySet<string>;
  /** What the last `up` recorded (etcd members and how each started). Default: nothing recorded. */
  lastUp?: LastUp;
}

/** Does this node's step wait for the previous one in its layer's chain? */
export function rollsWith(rolling: Rolling, node: NodeSpec, established: ReadonlySet<string>): boolean {
  return established.has(node.name) && (rolling === "all" || (rolling === "control-plane" && node.roles.has("control-plane")));
}

const ROLLING_REASON: Record<Rolling, string> = {
  all: "one node at a time",
  "control-plane": "control-plane nodes one at a time",
  none: "",
};

class Builder {
  readonly steps: PlannedStep[] = [];
  readonly layers: PlannedLayer[] = [];
  readonly edges: Edge[] = [];
  private readonly ids = new Set<string>();

  add<S extends PlannedStep>(s: S): S {
    if (this.ids.has(s.id)) throw new Error(`cluster plan: two steps named ${s.id}`);
    this.ids.add(s.id);
    this.steps.push(s);
    return s;
  }
  edge(after: string | undefined, before: string | undefined, reason: string): void {
    if (after && before) this.edges.push({ after, before, reason });
  }
  layer(name: string, owner: Owner, rolling: Rolling, steps: PlannedStep[]): void {
    this.layers.push({ name, owner, rolling, steps: steps.map((s) => s.id) });
  }
}

/** The id of a node's host step in a layer. */
export const stepId = (layer: string, node: string) => `${layer}-${node}`;

/** The whole cluster: steps, layers, edges with reasons. Pure; throws on a programming error (unknown key material, a cycle). */
export function planCluster(c: ClusterConfig, o: PlanOptions = {}): ClusterPlan {
  const established = o.established ?? new Set<string>();
  const b = new Builder();
  const wipeData = c.wipeDataOnDestroy;
  const byNode = new Map(c.nodes.map((n) => [n.name, n]));

  // ---- virtual machines ----------------------------------------------------------------
  const ready: Record<string, string> = {};
  const vmSteps: PlannedStep[] = [];
  const libvirt = (id: string, object: (key: string) => LibvirtObjectPlan, node?: string, replacedWith: string[] = []) =>
    b.add<LibvirtStep>({ id, kind: "libvirt", layer: "vm", owner: "vms", node, object, needsSshKey: object.length > 0, replacedWith });
  if (c.hypervisor.mode === "libvirt") {
    const network = libvirt(`network-${c.name}`, () => planNetwork(c));
    const pool = libvirt(`pool-${c.hypervisor.pool}`, () => planPool(c));
    const base = libvirt("volume-base", () => planBaseVolume(c));
    b.edge(base.id, pool.id, "the base image is a volume in the pool");
    vmSteps.push(network, pool, base);
    for (const n of c.nodes) {
      const disk = libvirt(`volume-${n.name}`, () => planNodeVolume(c, n), n.name);
      b.edge(disk.id, base.id, "the node's disk is an overlay on the base image");
      const seed = libvirt(`cloudinit-${n.name}`, (key) => planCloudInitDisk(c, n, key), n.name);
      b.edge(seed.id, pool.id, "the cloud-init seed is a volume in the pool");
      const address = libvirt(`address-${n.name}`, () => planNodeAddress(c, n), n.name);
      b.edge(address.id, network.id, "the node's DHCP reservation and DNS names are entries of the lab network");
      const domain = libvirt(`domain-${n.name}`, () => planDomain(c, n), n.name, [disk.id, seed.id]);
      b.edge(domain.id, network.id, "the domain's NIC is on the lab network");
      b.edge(domain.id, address.id, "the guest's DHCP lease must give it the node's fixed IP");
      b.edge(domain.id, disk.id, "the domain boots from its disk");
      b.edge(domain.id, seed.id, "cloud-init reads the seed at first boot");
      const r = b.add<ReadyStep>({ id: `ready-${n.name}`, kind: "ready", layer: "vm:ready", owner: "vms", node: n.name, script: readinessScript(c, n, true) });
      b.edge(r.id, domain.id, "the guest must be running to answer SSH");
      ready[n.name] = r.id;
      vmSteps.push(address, disk, seed, domain, r);
    }
  } else {
    for (const n of c.nodes) {
      const r = b.add<ReadyStep>({ id: `ready-${n.name}`, kind: "ready", layer: "vm:ready", owner: "vms", node: n.name, script: readinessScript(c, n, false) });
      ready[n.name] = r.id;
      vmSteps.push(r);
    }
  }
  b.layer("vm", "vms", "none", vmSteps);

  // ---- host layers ------------------------------------------------------------------------
  /** Ships one layer's plans: a step per plan, rolling edges between established nodes. */
  const hostLayer = (layer: string, owner: Owner, rolling: Rolling, plans: HostStepPlan[], idOf: (p: HostStepPlan) => string = (p) => stepId(layer, p.node), notRolled: readonly string[] = []) => {
    const out: Record<string, HostStep> = {};
    let previous: HostStep | undefined;
    for (const plan of plans) {
      const step = b.add<HostStep>({ id: idOf(plan), kind: "host", layer, owner, node: plan.node, plan, wipeData });
      out[plan.node] = step;
      const node = byNode.get(plan.node);
      if (node && !notRolled.includes(node.name) && rollsWith(rolling, node, established)) {
        if (previous) b.edges.push({ after: step.id, before: previous.id, reason: `rolling update: ${ROLLING_REASON[rolling]}`, rolling: true });
        previous = step;
      }
    }
    b.layer(layer, owner, rolling, Object.values(out));
    return out;
  };
  const ids = (steps: Record<string, PlannedStep>) => Object.values(steps).map((s) => s.id);
  const each = (after: string | undefined, befores: string[], reason: (before: string) => string) => befores.forEach((x) => b.edge(after, x, reason(x)));
  const kubeletHosts = kubeletNodes(c);

  const prep = hostLayer("prep", "nodes", "none", c.nodes.map((n) => planNodePrep(c, n)));
  for (const n of c.nodes) b.edge(prep[n.name].id, ready[n.name], "SSH answers and cloud-init has finished");
  const artifacts = hostLayer("artifacts", "nodes", "none", c.nodes.map((n) => planArtifacts(c, n)));
  for (const n of c.nodes) b.edge(artifacts[n.name].id, prep[n.name].id, "node prep made the directories and installed the packages");

  const etcdMembers = planEtcdMembership(c, o.lastUp?.etcd, established);
  const { joining } = etcdMembers;
  const etcd = hostLayer("etcd", "etcd", "all", nodesWith(c, "etcd").map((n) => planEtcdMember(c, n, etcdMembers.joins[n.name])), undefined, joining);
  for (const [n, s] of Object.entries(etcd)) b.edge(s.id, artifacts[n].id, "the etcd binaries");
  // members added to a running cluster join after its members, one at a time
  const staying = Object.keys(etcd).filter((n) => !joining.includes(n));
  joining.forEach((n, i) => {
    each(etcd[n].id, staying.map((m) => etcd[m].id), (x) => `joins the running cluster: after its members (${x}) and their restarts, if any`);
    if (i > 0) b.edge(etcd[n].id, etcd[joining[i - 1]].id, "one member joins at a time: a member announced but not yet started counts against the quorum");
  });
  const etcdHealth = Object.values(hostLayer("etcd-health", "etcd", "none", [planEtcdHealthGate(c)], () => "etcd-health"))[0];
  each(etcdHealth.id, ids(etcd), (x) => `every member runs (${x})`);
  const etcdMembership: Record<string, HostStep> = {};
  for (const n of nodesWith(c, "etcd")) {
    etcdMembership[n.name] = b.add<HostStep>({ id: stepId("etcd-membership", n.name), kind: "host", layer: "etcd-membership", owner: "etcd", node: n.name, plan: planEtcdMembershipOf(n), wipeData, deletedWithCluster: true });
    b.edge(etcdMembership[n.name].id, etcd[n.name].id, "taken out of the member list through its own etcd, before that etcd stops");
    b.edge(etcdMembership[n.name].id, etcdHealth.id, "the member list needs a quorum");
  }
  b.layer("etcd-membership", "etcd", "none", Object.values(etcdMembership));

  if (c.etcdSnapshots) {
    const snapshots = hostLayer("etcd-snapshots", "etcd", "none", nodesWith(c, "etcd").map((n) => planEtcdSnapshots(c, n)));
    for (const s of Object.values(snapshots)) b.edge(s.id, etcdHealth.id, "a snapshot needs a healthy member");
  }

  const kubeNginx = hostLayer("kube-nginx", "kube-nginx", "control-plane", c.nodes.map((n) => planKubeNginx(c, n)));
  for (const n of c.nodes) b.edge(kubeNginx[n.name].id, prep[n.name].id, "nginx is installed by node prep");

  const controlPlane = hostLayer("control-plane", "control-plane", "all", nodesWith(c, "control-plane").map((n) => planControlPlane(c, n)));
  for (const [n, s] of Object.entries(controlPlane)) {
    b.edge(s.id, artifacts[n].id, "the control-plane binaries");
    b.edge(s.id, etcdHealth.id, "kube-apiserver's storage: every etcd member healthy");
  }
  const adminAccess = Object.values(hostLayer("admin-access", "stack", "none", [planAdminAccess(c)], () => "admin-access"))[0];
  each(adminAccess.id, ids(controlPlane), (x) => `the apiserver on ${x.replace("control-plane-", "")} serves the binding`);

  const bridge = c.addons.cni === "bridge";
  const podNetwork = bridge ? hostLayer("pod-network", "workers", "none", c.nodes.map((n) => planPodNetwork(c, n))) : {};
  for (const [n, s] of Object.entries(podNetwork)) b.edge(s.id, prep[n].id, "node prep installed iproute2");
  const podBridge = bridge ? hostLayer("pod-bridge", "workers", "none", kubeletHosts.map((n) => planPodBridge(c, n))) : {};
  for (const [n, s] of Object.entries(podBridge)) {
    b.edge(s.id, artifacts[n].id, "the CNI plugins");
    // a stack from before the two steps: pod-network's replacement first deletes the old
    // step, which held the bridge configuration too
    b.edge(s.id, podNetwork[n].id, "after the node's routes step (which held the bridge configuration in earlier versions)");
  }
  const containerd = hostLayer("containerd", "workers", "control-plane", kubeletHosts.map((n) => planContainerd(c, n)));
  for (const [n, s] of Object.entries(containerd)) b.edge(s.id, artifacts[n].id, "containerd, runc and the CNI plugins");
  const images = c.registry.archives.length ? hostLayer("images", "workers", "none", kubeletHosts.map((n) => planImages(c, n))) : {};
  for (const [n, s] of Object.entries(images)) b.edge(s.id, containerd[n].id, "the archives are imported into containerd");

  // around a kubelet's move to another release: drained before, uncordoned after (run from
  // the first control-plane node as admin; no-ops unless the running kubelet differs)
  const onFirstControlPlane = (layer: string, plans: HostStepPlan[], nodes: NodeSpec[], extra: Partial<HostStep> = {}) => {
    const out: Record<string, HostStep> = {};
    plans.forEach((plan, i) => (out[nodes[i].name] = b.add<HostStep>({ id: stepId(layer, nodes[i].name), kind: "host", layer, owner: "workers", node: plan.node, plan, wipeData, ...extra })));
    b.layer(layer, "workers", "none", Object.values(out));
    return out;
  };
  const drain = onFirstControlPlane("upgrade-drain", kubeletHosts.map((n) => planUpgradeDrain(c, n)), kubeletHosts);
  const kubelet = hostLayer("kubelet", "workers", "control-plane", kubeletHosts.map((n) => planKubelet(c, n)));
  for (const [n, s] of Object.entries(drain)) {
    b.edge(s.id, adminAccess.id, "kubectl as admin (the admin group's binding)");
    b.edge(kubelet[n].id, s.id, "drained before its kubelet moves to another release");
  }
  for (const [n, s] of Object.entries(kubelet)) {
    b.edge(s.id, containerd[n].id, "the CRI socket");
    b.edge(s.id, podBridge[n]?.id, "the bridge CNI configuration");
    b.edge(s.id, images[n]?.id, "the pause image, imported");
    b.edge(s.id, kubeNginx[n].id, "the kubelet reaches the apiservers through the local proxy");
    each(s.id, ids(controlPlane), (x) => `an apiserver to register with (${x})`);
  }
  const kubeProxy = hostLayer("kube-proxy", "workers", "control-plane", kubeletHosts.map((n) => planKubeProxy(c, n)));
  for (const [n, s] of Object.entries(kubeProxy)) {
    b.edge(s.id, kubelet[n].id, "its Node object: kube-proxy reads the node's IPs from it (started first, it assumes loopback)");
    b.edge(s.id, kubeNginx[n].id, "kube-proxy reaches the apiservers through the local proxy");
    each(s.id, ids(controlPlane), (x) => `an apiserver to watch (${x})`);
  }
  // each node's membership: uncordoned once it runs; drained and removed before its kubelet
  // and its VM go when it leaves the config (not in a whole destroy: the control plane goes too)
  // (run from the first control-plane node, where the admin kubeconfig is: one short SSH
  // session there per node)
  const membership = onFirstControlPlane("node", kubeletHosts.map((n) => planNodeMembership(c, n)), kubeletHosts, { deletedWithCluster: true });
  for (const [n, s] of Object.entries(membership)) {
    b.edge(s.id, kubelet[n].id, "uncordoned once its kubelet runs; drained before its kubelet stops");
    b.edge(s.id, kubeProxy[n].id, "drained before kube-proxy stops routing its pods' Services");
    b.edge(s.id, adminAccess.id, "kubectl as admin (the admin group's binding)");
  }
  const uncordon = onFirstControlPlane("upgrade-uncordon", kubeletHosts.map((n) => planUpgradeUncordon(c, n)), kubeletHosts);
  for (const [n, s] of Object.entries(uncordon)) {
    b.edge(s.id, kubelet[n].id, "its kubelet runs the release");
    b.edge(s.id, kubeProxy[n].id, "its kube-proxy runs the release");
    b.edge(s.id, adminAccess.id, "kubectl as admin (the admin group's binding)");
  }
  // an upgrade drains one running node at a time, whatever its roles
  if (o.lastUp && o.lastUp.kubernetesVersion !== c.versions.kubernetes) {
    const running = kubeletHosts.filter((n) => established.has(n.name));
    for (let i = 1; i < running.length; i++) {
      b.edges.push({ after: drain[running[i].name].id, before: uncordon[running[i - 1].name].id, reason: `upgrade ${o.lastUp.kubernetesVersion} → ${c.versions.kubernetes}: one node drained at a time`, rolling: true });
    }
  }
  const registered = Object.values(hostLayer("nodes-registered", "stack", "none", [planNodesRegistered(c)], () => "nodes-registered"))[0];
  each(registered.id, ids(kubelet), (x) => `${x} registers its node`);
  b.edge(registered.id, adminAccess.id, "the gate asks as admin");

  // ---- addons through the Kubernetes API ---------------------------------------------------
  const server = apiserverUrls(c).external;
  const gate = b.add<LocalGateStep>({ id: "api-reachable", kind: "local-gate", layer: "api-reachable", owner: "addons", script: apiReachableScript(server), triggers: [server] });
  b.edge(gate.id, registered.id, "every node registered");
  each(gate.id, ids(kubeProxy), (x) => `Service routing on every node (${x})`);
  b.layer("api-reachable", "addons", "none", [gate]);
  const provider = b.add<ApiProviderStep>({ id: `${c.name}-api`, kind: "kubernetes-provider", layer: "addons", owner: "addons", server });
  b.edge(provider.id, gate.id, "a provider configured while the API is unreachable caches that for the whole run");

  const groups = planAddons(c);
  const everyObject = groups.flatMap((g) => g.objects);
  const objectIds = new Map<K8sObject, string>();
  const objectSteps: ObjectStep[] = [];
  let cni: string[] = [];
  for (const g of groups) {
    const created: string[] = [];
    for (const object of g.objects) {
      const s = b.add<ObjectStep>({ id: resourceName(object), kind: "kubernetes-object", layer: "addons", owner: "addons", group: g.name, object });
      objectSteps.push(s);
      b.edge(s.id, gate.id, "the Kubernetes API answers from this machine");
      each(s.id, cni, (x) => `the pod network first: pods stay Pending without it (${x})`);
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

  const plan: ClusterPlan = { config: c, etcd: etcdMembers, steps: b.steps, layers: b.layers, edges: b.edges };
  checkMaterial(plan);
  topologicalOrder(plan);
  return plan;
}

/** Every key-material reference a host step makes must name something the PKI issues. */
export function checkMaterial(plan: ClusterPlan): void {
  const pki = planPki(plan.config);
  const unknown = new Set<string>();
  for (const s of plan.steps) if (s.kind === "host") for (const r of materialRefs(s.plan)) if (!isIssued(r, pki)) unknown.add(`${s.id}: ${materialName(r)}`);
  if (unknown.size) throw new Error(`cluster plan: key material the PKI does not issue: ${[...unknown].join(", ")}`);
}

/** The steps in an order where every step comes after what it waits for; throws on a cycle or an edge to nothing. */
export function topologicalOrder(plan: Pick<ClusterPlan, "steps" | "edges">): PlannedStep[] {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const waits = new Map<string, string[]>(plan.steps.map((s) => [s.id, []]));
  for (const e of plan.edges) {
    if (!byId.has(e.after) || !byId.has(e.before)) throw new Error(`cluster plan: edge between unknown steps ${e.after} → ${e.before}`);
    waits.get(e.after)!.push(e.before);
  }
  const out: PlannedStep[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, trail: string[]) => {
    if (state.get(id) === "done") return;
    if (state.get(id) === "visiting") throw new Error(`cluster plan: dependency cycle ${[...trail, id].join(" → ")}`);
    state.set(id, "visiting");
    for (const d of waits.get(id)!) visit(d, [...trail, id]);
    state.set(id, "done");
    out.push(byId.get(id)!);
  };
  for (const s of plan.steps) visit(s.id, []);
  return out;
}

/** What a step waits for, with reasons. */
export function edgesInto(plan: ClusterPlan, id: string): Edge[] {
  return plan.edges.filter((e) => e.after === id);
}

/** Every host step, in plan order. */
export function hostSteps(plan: ClusterPlan): HostStep[] {
  return plan.steps.filter((s): s is HostStep => s.kind === "host");
}

/** The longest chain of host steps that must run one after another (ids). */
export function criticalPath(plan: ClusterPlan): string[] {
  const host = new Set(hostSteps(plan).map((s) => s.id));
  const memo = new Map<string, string[]>();
  const longest = (id: string): string[] => {
    const hit = memo.get(id);
    if (hit) return hit;
    let best: string[] = [];
    for (const e of edgesInto(plan, id)) {
      const p = longest(e.before);
      if (p.length > best.length) best = p;
    }
    const path = host.has(id) ? [...best, id] : best;
    memo.set(id, path);
    return path;
  };
  let best: string[] = [];
  for (const s of topologicalOrder(plan)) {
    const p = longest(s.id);
    if (p.length > best.length) best = p;
  }
  return best;
}

/** SSH sessions each node gets during a full `up`: one per host step, one per file uploaded to it. */
export function sshSessionsPerNode(plan: ClusterPlan): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of hostSteps(plan)) out[s.plan.node] = (out[s.plan.node] ?? 0) + 1 + (s.plan.upload?.files.length ?? 0);
  return Object.fromEntries(Object.entries(out).sort());
}

/** Host steps per node. */
export function hostStepsPerNode(plan: ClusterPlan): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of hostSteps(plan)) out[s.plan.node] = (out[s.plan.node] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort());
}

/** Every reference to key material the plan's host steps make, once each. */
export function materialInPlan(plan: ClusterPlan): MaterialRef[] {
  const seen = new Map<string, MaterialRef>();
  for (const s of hostSteps(plan)) for (const r of materialRefs(s.plan)) seen.set(materialName(r), r);
  return [...seen.values()];
}
