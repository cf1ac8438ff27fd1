// The cluster plan as data: every edge has a reason and names real steps, there is no
// cycle, rolling edges exist only between nodes that already run, unknown key material is
// refused (at compile time for the fixed names, by planCluster for the rest), and the
// program's registered dependsOn is exactly the plan's edges.
import { ClusterConfig, loadConfig } from "../../components/config";
import { ClusterPlan, LAYERS, checkMaterial, edgesInto, planCluster, topologicalOrder } from "../../components/cluster/plan";
import { material } from "../../components/pki/material";
import { renderTree } from "../../components/render";
import { runProgram, stackConfig, SPLIT_ROLE_NODES } from "../harness";

const dev = stackConfig("dev");
const cfg = (v: Record<string, unknown> = {}): ClusterConfig => loadConfig({ ...dev, ...v }).config!;
const split = {
  cni: "bridge",
  dashboard: false,
  nodes: SPLIT_ROLE_NODES,
};

describe("the cluster plan", () => {
  const plan = planCluster(cfg());

  it("gives every edge a reason and orders every step after what it waits for", () => {
    expect(plan.steps.length).toBeGreaterThan(70);
    expect(plan.edges.length).toBeGreaterThan(100);
    for (const e of plan.edges) expect({ e: `${e.after} ← ${e.before}`, reason: e.reason.length > 5 }).toEqual({ e: `${e.after} ← ${e.before}`, reason: true });
    const position = new Map(topologicalOrder(plan).map((s, i) => [s.id, i]));
    for (const e of plan.edges) expect(position.get(e.before)!).toBeLessThan(position.get(e.after)!);
  });

  it("names the reasons a reader asks for", () => {
    const why = (after: string, before: string) => edgesInto(plan, after).find((e) => e.before === before)?.reason;
    expect(why("kubelet-k8s-2", "containerd-k8s-2")).toBe("the CRI socket");
    expect(why("control-plane-k8s-1", "etcd-health")).toMatch(/storage/);
    expect(why("kube-proxy-k8s-3", "kubelet-k8s-3")).toMatch(/Node object/);
    // the layer each step belongs to, with its rolling rule
    expect(plan.layers.find((l) => l.name === "etcd")).toMatchObject({ rolling: "all", steps: ["etcd-k8s-1", "etcd-k8s-2", "etcd-k8s-3"] });
  });

  it("lists its layers in the table of contents' order, each once, every step in its own layer", () => {
    for (const c of [cfg(), cfg(split), cfg({ cni: "flannel", headlamp: true }), cfg({ hostMode: "existing" })]) {
      const p = planCluster(c, { established: new Set(c.nodes.map((n) => n.name)) });
      const names = p.layers.map((l) => l.name);
      expect(names.length).toBeGreaterThan(15);
      expect(new Set(names).size).toBe(names.length);
      expect(names).toEqual([...LAYERS].filter((l) => names.includes(l)));
      const layerOf = new Map(p.layers.flatMap((l) => l.steps.map((id) => [id, l.name] as const)));
      const unplaced = p.steps.filter((s) => s.kind !== "kubernetes-provider" && layerOf.get(s.id) !== s.layer && !(s.kind === "ready" && layerOf.get(s.id) === "vm"));
      expect(unplaced.map((s) => s.id)).toEqual([]);
    }
  });

  it("rejects a cycle and an edge to a step that does not exist", () => {
    const cyclic: ClusterPlan = { ...plan, edges: [...plan.edges, { after: "prep-k8s-1", before: "kubelet-k8s-1", reason: "test" }] };
    expect(() => topologicalOrder(cyclic)).toThrow(/dependency cycle/);
    const dangling: ClusterPlan = { ...plan, edges: [...plan.edges, { after: "prep-k8s-1", before: "nothing", reason: "test" }] };
    expect(() => topologicalOrder(dangling)).toThrow(/unknown steps/);
  });

  it("rolls only nodes that already run: no rolling edge on the first up, a chain per rolled layer after", () => {
    expect(plan.edges.filter((e) => e.rolling)).toEqual([]);
    const running = planCluster(cfg(), { established: new Set(["k8s-1", "k8s-2", "k8s-3"]) });
    const rolled = running.edges.filter((e) => e.rolling).map((e) => `${e.after} ← ${e.before}`);
    expect(rolled).toEqual(expect.arrayContaining(["etcd-k8s-2 ← etcd-k8s-1", "etcd-k8s-3 ← etcd-k8s-2", "control-plane-k8s-3 ← control-plane-k8s-2", "kubelet-k8s-2 ← kubelet-k8s-1"]));
    // worker-only nodes never chain behind anyone (restarting a kubelet does not stop pods)
    const splitRunning = planCluster(cfg(split), { established: new Set(["cp-1", "cp-2", "cp-3", "w-1", "w-2"]) });
    expect(splitRunning.edges.filter((e) => e.rolling && /-w-\d$/.test(e.after))).toEqual([]);
    // a node added later is created beside the running ones
    const added = planCluster(cfg(), { established: new Set(["k8s-1", "k8s-2"]) });
    expect(added.edges.filter((e) => e.rolling && e.after.endsWith("k8s-3"))).toEqual([]);
  });

  it("refuses key material the PKI does not issue, in the plan and so in the render", () => {
    // @ts-expect-error: a misspelt fixed certificate name is a type error
    material.cert("apiserverr");
    const step = plan.steps.find((s) => s.id === "kubelet-k8s-1")!;
    if (step.kind !== "host") throw new Error("kubelet-k8s-1 is a host step");
    const broken: ClusterPlan = {
      ...plan,
      steps: plan.steps.map((s) => (s === step ? { ...step, plan: { ...step.plan, files: [...step.plan.files, { path: "/tmp/x", content: { ref: material.cert("kubelet-k8s-9") }, mode: "0644" }] } } : s)),
    };
    expect(() => checkMaterial(broken)).toThrow("key material the PKI does not issue: kubelet-k8s-1: cert kubelet-k8s-9");
    expect(() => checkMaterial(plan)).not.toThrow();
    // the render resolves every reference or fails naming it
    expect(() => renderTree(cfg(), { material: (r) => (r.kind === "kubeconfig" ? (undefined as unknown as string) : "x") })).toThrow(/no key material for kubeconfig /);
  });
});

describe("the program ships the plan", () => {
  for (const [name, values, established] of [
    ["dev, running", {}, "all"],
    ["dev, first up", {}, []],
    ["split roles, bridge, running", split, "all"],
  ] as const) {
    it(`registers exactly the plan's edges as dependsOn (${name})`, async () => {
      const c = cfg(values);
      const names = established === "all" ? c.nodes.map((n) => n.name) : [...established];
      const plan = planCluster(c, { established: new Set(names) });
      const { rec, error } = await runProgram({ ...dev, ...values }, { established: established === "all" ? "all" : [...established] });
      expect(error).toBeUndefined();
      let checked = 0;
      for (const s of plan.steps) {
        // a host step is a component (its command inside carries the same name); every other step is one resource
        const r = rec.resources.find((x) => x.name === s.id && (s.kind === "host" ? x.type === "command:remote:Command" : x.custom));
        expect({ step: s.id, registered: !!r }).toEqual({ step: s.id, registered: true });
        const got = rec.dependsOnNames(r!.type, s.id).sort();
        const want = edgesInto(plan, s.id).map((e) => e.before).sort();
        expect({ step: s.id, dependsOn: got }).toEqual({ step: s.id, dependsOn: want });
        checked++;
      }
      expect(checked).toBe(plan.steps.length);
    });
  }
});
