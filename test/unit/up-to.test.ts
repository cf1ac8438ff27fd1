// A lab stood up one layer at a time (upTo): each stage's plan is the previous one's and
// exactly its own layers; the whole lab is the default and the same plan as before the key
// existed; what the stack records and outputs follows the stage.
import { STAGES, Stage, loadConfig } from "../../components/config";
import { LayerName, planCluster } from "../../components/cluster/plan";
import { renderTree } from "../../components/render";
import { runProgram, settle, stackConfig } from "../harness";

const dev = stackConfig("dev");
const planAt = (upTo: Stage, v: Record<string, unknown> = {}) => planCluster(loadConfig({ ...dev, ...v, upTo }).config!);

/** The layers each stage adds. */
const ADDS: Record<Stage, LayerName[]> = {
  vms: ["vm", "vm:ready"],
  pki: [],
  etcd: ["prep", "carryover", "artifacts", "etcd", "etcd-health", "etcd-membership", "etcd-snapshots"],
  "kube-nginx": ["kube-nginx"],
  "control-plane": ["control-plane", "admin-access"],
  workers: ["pod-network", "pod-bridge", "containerd", "images", "upgrade-drain", "kubelet", "kube-proxy", "node", "upgrade-uncordon", "nodes-registered"],
  addons: ["api-reachable", "addons"],
};

describe("upTo", () => {
  it("defaults to the whole lab, the same plan as without the key", () => {
    const c = loadConfig(dev).config!;
    expect(c.upTo).toBe("addons");
    expect(JSON.stringify(planAt("addons").edges)).toBe(JSON.stringify(planCluster(c).edges));
  });

  for (const cni of ["weave", "bridge"]) {
    it(`adds exactly each stage's layers to the previous stage's plan (cni: ${cni})`, () => {
      let before = new Set<string>();
      let layers: LayerName[] = [];
      for (const stage of STAGES) {
        const plan = planAt(stage, { cni });
        const ids = new Set(plan.steps.map((s) => s.id));
        for (const id of before) expect({ stage, id, kept: ids.has(id) }).toEqual({ stage, id, kept: true });
        layers = [...layers, ...ADDS[stage]];
        const added = plan.steps.filter((s) => !before.has(s.id));
        for (const s of added) expect({ stage, step: s.id, layer: layers.includes(s.layer) }).toEqual({ stage, step: s.id, layer: true });
        if (ADDS[stage].length) expect({ stage, added: added.length > 0 }).toEqual({ stage, added: true });
        // no edge to a step of a later stage
        expect(plan.edges.every((e) => ids.has(e.before) && ids.has(e.after))).toBe(true);
        before = ids;
      }
    });
  }

  it("stops after the VMs without a PKI, and records no running node before the workers", async () => {
    const vms = await runProgram({ ...dev, upTo: "vms" }, { established: [] });
    expect(vms.error).toBeUndefined();
    expect(vms.rec.resources.filter((r) => r.type.startsWith("tls:")).map((r) => r.name)).toEqual(["k8s-lab-ssh"]);
    expect(vms.rec.resources.filter((r) => r.type === "command:remote:Command")).toEqual([]);
    expect(vms.outputs!.adminKubeconfig).toBeUndefined();
    expect((await settle(vms.outputs!.establishedNodes as never)).value).toEqual([]);
    expect((await settle(vms.outputs!.upTo as never)).value).toMatchObject({ stage: "vms", next: "raise upTo to pki and run npm run up" });

    const etcd = await runProgram({ ...dev, upTo: "etcd" }, { established: [] });
    expect(etcd.error).toBeUndefined();
    expect(etcd.rec.resources.filter((r) => r.type === "command:remote:Command").map((r) => r.name.replace(/-k8s-\d$/, "")).sort()).toEqual(
      expect.arrayContaining(["artifacts", "etcd", "etcd-health", "etcd-membership", "prep"]),
    );
    expect(etcd.rec.resources.some((r) => r.type.startsWith("kubernetes:"))).toBe(false);
    expect(etcd.outputs!.adminKubeconfig).toBeDefined();
    const lastUp = (await settle(etcd.outputs!.lastUp as never)).value as { etcd: Record<string, unknown>; controlPlane: string[] };
    expect(Object.keys(lastUp.etcd).sort()).toEqual(["k8s-1", "k8s-2", "k8s-3"]);
    expect(lastUp.controlPlane).toEqual([]);
    expect((await settle(etcd.outputs!.establishedNodes as never)).value).toEqual([]);

    const all = await runProgram(dev, { established: [] });
    expect((await settle(all.outputs!.establishedNodes as never)).value).toEqual(["k8s-1", "k8s-2", "k8s-3"]);
    expect((await settle(all.outputs!.upTo as never)).value).toMatchObject({ stage: "addons", next: "the whole lab is up" });
  });

  it("the runbook says what each stage builds and how to see it", () => {
    const runbook = renderTree(loadConfig(dev).config!).get("RUNBOOK.md")!;
    for (const stage of STAGES) expect(runbook).toContain(`### upTo: ${stage}\n`);
    expect(runbook).toMatch(/endpoint health --cluster` prints one 'is healthy' line per member/);
  });
});
