// How a layer is wired into the plan: the builder every layer's wiring function (cluster/
// layers/*) adds its steps, its edges (each with its reason) and its layer to, with the
// rolling rule applied once for all — on nodes that already run the cluster, a layer's
// steps wait for one another in a chain, on the first `up` they are created together.
// Pure. Depends on: config, host/plan, cluster/types, cluster/graph.
import { ClusterConfig, NodeSpec } from "../config";
import { HostStepPlan } from "../host/plan";
import { checkMaterial, topologicalOrder } from "./graph";
import { ClusterPlan, HostStep, LAYERS, LayerName, Owner, PlanOptions, PlannedStep, Rolling, rollsWith, stepId } from "./types";
import { EtcdMembership } from "../etcd/plan";

const ROLLING_REASON: Record<Rolling, string> = {
  all: "one node at a time",
  "control-plane": "control-plane nodes one at a time",
  none: "",
};

/** A layer's host steps, by node name. */
export type NodeSteps = Record<string, HostStep>;

/** The ids of a layer's steps. */
export const ids = (steps: Record<string, PlannedStep>) => Object.values(steps).map((s) => s.id);

export class PlanBuilder {
  readonly steps: PlannedStep[] = [];
  readonly layers: ClusterPlan["layers"] = [];
  readonly edges: ClusterPlan["edges"] = [];
  private readonly ids = new Set<string>();
  /** Nodes that already run the cluster: only they roll. */
  readonly established: ReadonlySet<string>;
  private readonly byNode: Map<string, NodeSpec>;

  constructor(
    readonly config: ClusterConfig,
    readonly options: PlanOptions = {},
  ) {
    this.established = options.established ?? new Set<string>();
    this.byNode = new Map(config.nodes.map((n) => [n.name, n]));
  }

  add<S extends PlannedStep>(s: S): S {
    if (this.ids.has(s.id)) throw new Error(`cluster plan: two steps named ${s.id}`);
    this.ids.add(s.id);
    this.steps.push(s);
    return s;
  }

  /** `after` waits for `before`; either may be absent (a step this config does not have). */
  edge(after: string | undefined, before: string | undefined, reason: string): void {
    if (after && before) this.edges.push({ after, before, reason });
  }

  /** `after` waits for each of `befores`. */
  each(after: string | undefined, befores: string[], reason: (before: string) => string): void {
    befores.forEach((x) => this.edge(after, x, reason(x)));
  }

  /** An edge that only rolls an update (not on the first `up`). */
  rollingEdge(after: string, before: string, reason: string): void {
    this.edges.push({ after, before, reason, rolling: true });
  }

  layer(name: LayerName, owner: Owner, rolling: Rolling, steps: PlannedStep[]): void {
    this.layers.push({ name, owner, rolling, steps: steps.map((s) => s.id) });
  }

  /**
   * A host step on `node` is undone with its machine, the node's domain (lab VMs); undefined
   * for existing machines, which stay. The domain, not the disk: when a machine is made again
   * (rebuildNodes) the engine deletes the old steps first, in the delete-before-replace chain
   * of whichever of the disk and the seed it reaches first, and skips a step's delete only if
   * its `deletedWith` is already marked as deleted then — the domain (in both chains) always
   * is, the disk not when the seed comes first: on the real lab of 2026-12-07 a rebuilt
   * node's uncordon step then dialled the gone machine for 2 minutes and failed the up.
   */
  machineOf(node: string): string | undefined {
    return this.config.hypervisor.mode === "libvirt" && this.byNode.has(node) ? `domain-${node}` : undefined;
  }

  /** A host step of the plan: wiped data as configured, undone with its node's machine unless it is undone with the cluster; forgotten when its machine is lost. */
  private hostStep(id: string, layer: LayerName, owner: Owner, plan: HostStepPlan, extra: Partial<HostStep> = {}): HostStep {
    const deletedWith = extra.deletedWithCluster ? undefined : this.machineOf(plan.node);
    const lost = this.config.lostMachines.includes(plan.node);
    return this.add<HostStep>({ id, kind: "host", layer, owner, node: plan.node, plan, wipeData: this.config.wipeDataOnDestroy, ...(deletedWith ? { deletedWith } : {}), ...(lost ? { forgottenOnDelete: true } : {}), ...extra });
  }

  /** One host step per plan, chained one node at a time over established nodes as `rolling` says. */
  hostLayer(layer: LayerName, owner: Owner, rolling: Rolling, plans: HostStepPlan[], o: { notRolled?: readonly string[]; extra?: Partial<HostStep> } = {}): NodeSteps {
    const out: NodeSteps = {};
    let previous: HostStep | undefined;
    for (const plan of plans) {
      const step = this.hostStep(stepId(layer, plan.node), layer, owner, plan, o.extra);
      out[plan.node] = step;
      const node = this.byNode.get(plan.node);
      if (node && !o.notRolled?.includes(node.name) && rollsWith(rolling, node, this.established)) {
        if (previous) this.rollingEdge(step.id, previous.id, `rolling update: ${ROLLING_REASON[rolling]}`);
        previous = step;
      }
    }
    this.layer(layer, owner, rolling, Object.values(out));
    return out;
  }

  /** A layer of one host step named as the layer (a cluster-wide gate). */
  single(layer: LayerName, owner: Owner, plan: HostStepPlan): HostStep {
    const step = this.hostStep(layer, layer, owner, plan);
    this.layer(layer, owner, "none", [step]);
    return step;
  }

  /**
   * One step per node, each run elsewhere (on the first control-plane node, where the admin
   * kubeconfig is) but named for the node it acts on: `layer-<node>`.
   */
  aboutEachNode(layer: LayerName, owner: Owner, nodes: NodeSpec[], planOf: (n: NodeSpec) => HostStepPlan, extra: Partial<HostStep> = {}): NodeSteps {
    const out: NodeSteps = {};
    for (const n of nodes) {
      const plan = planOf(n);
      out[n.name] = this.hostStep(stepId(layer, n.name), layer, owner, plan, extra);
    }
    this.layer(layer, owner, "none", Object.values(out));
    return out;
  }

  /** The finished plan (no etcd members: a lab stood up only to its VMs), checked: every key-material reference is issued, no cycle, no edge to nothing. */
  finish(etcd: EtcdMembership = { joins: {}, joining: [], leaving: [], rejoining: [] }): ClusterPlan {
    // layers in the order `up` reaches them (a layer wired last, like the footprint, may come first)
    const layers = [...this.layers].sort((a, b) => LAYERS.indexOf(a.name) - LAYERS.indexOf(b.name));
    const plan: ClusterPlan = { config: this.config, etcd, steps: this.steps, layers, edges: this.edges };
    checkMaterial(plan);
    topologicalOrder(plan);
    return plan;
  }
}
