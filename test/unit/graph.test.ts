// The resource graph of the program: every resource's URN and the order between them
// (explicit dependencies, transitively reduced) for four stacks, compared with the
// recorded graph in test/fixtures/graph/. A change to a URN replaces the resource on every
// existing stack; a change to the order changes what `up` does first. When either is
// intended, regenerate with UPDATE_GRAPH=1 npx jest test/graph.test.ts and review the diff.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { graphText, resourceGraph, transitiveReduction } from "../graph";
import { ROOT, runProgram, settle, stackConfig, SPLIT_ROLE_NODES } from "../harness";

const dev = stackConfig("dev");

const STACKS: Record<string, { values: Record<string, unknown>; established: "all" | string[] }> = {
  "dev-first-up": { values: {}, established: [] },
  "dev-established": { values: {}, established: "all" },
  "flannel-headlamp-partly-established": { values: { cni: "flannel", headlamp: true, kubeProxyMode: "nftables" }, established: ["k8s-1", "k8s-2"] },
  "split-roles-bridge": {
    values: {
      cni: "bridge",
      dashboard: false,
      nodes: SPLIT_ROLE_NODES,
    },
    established: "all",
  },
};

describe("the resource graph", () => {
  it("reduces transitively and rejects a cycle", () => {
    expect(transitiveReduction(["a", "b", "c"], [["c", "b"], ["b", "a"], ["c", "a"]])).toEqual([["b", "a"], ["c", "b"]]);
    expect(() => transitiveReduction(["a", "b"], [["a", "b"], ["b", "a"]])).toThrow(/cycle/);
  });

  for (const [name, s] of Object.entries(STACKS)) {
    it(`of ${name} is the recorded one`, async () => {
      const { rec, error } = await runProgram({ ...dev, ...s.values }, { established: s.established });
      expect(error).toBeUndefined();
      const g = resourceGraph(rec.byUrn);
      expect(g.urns.length).toBeGreaterThan(100);
      expect(g.edges.length).toBeGreaterThan(50);
      const file = path.join(ROOT, "test/fixtures/graph", `${name}.txt`);
      if (process.env.UPDATE_GRAPH) fs.writeFileSync(file, graphText(g));
      expect(graphText(g)).toBe(fs.readFileSync(file, "utf8"));
    });
  }
});

// Before one preview entry per host step, each step was a component of its own
// (k8slab:host:HostStep) holding its command and copies, and the two cluster-wide steps sat
// outside any layer: the URNs of that layout are kept in before-one-entry-per-step/. A
// resource whose URN changes is replaced on every existing stack unless an alias names its
// old URN; the components themselves hold no state.
describe("a stack made before one preview entry per step", () => {
  /** `type chain::name` of a full URN, as the fixtures hold it (the engine leaves the root stack out; the mocks do not). */
  const short = (urn: string) => urn.split("::").slice(2).join("::").replace(/^pulumi:pulumi:Stack\$/, "");
  const isCustom = (u: string) => !u.split("::")[0].split("$").pop()!.startsWith("k8slab:");

  for (const [name, s] of Object.entries(STACKS)) {
    it(`keeps every resource of ${name}: the same URN, or an alias of it`, async () => {
      const { rec, error } = await runProgram({ ...dev, ...s.values }, { established: s.established });
      expect(error).toBeUndefined();
      const now = new Set<string>();
      const aliased = new Map<string, string>();
      for (const { urn, opts } of rec.byUrn.values()) {
        now.add(urn);
        for (const a of (opts.aliases ?? []) as Array<{ parent?: pulumi.Input<string> }>) {
          // (the Kubernetes SDK's own aliases name older API versions, not another parent)
          if (a.parent === undefined) continue;
          const parent = (await settle(pulumi.output(a.parent))).value as string;
          const [types, ownName] = urn.split("::");
          const own = types.split("$").pop();
          aliased.set(`${short(parent).split("::")[0]}$${own}::${ownName}`, urn);
        }
      }
      const before = fs.readFileSync(path.join(ROOT, "test/fixtures/graph/before-one-entry-per-step", `${name}.txt`), "utf8").trim().split("\n");
      const custom = before.filter(isCustom);
      expect(custom.length).toBeGreaterThan(100);
      const lost = custom.filter((u) => !now.has(u) && !aliased.has(u));
      expect(lost).toEqual([]);
      // and the preview shows one entry per host step: no component between a layer and its command
      expect([...now].filter((u) => u.includes("k8slab:host:HostStep"))).toEqual([]);
      expect([...now].filter((u) => /::/.test(u) && u.split("::")[0] === "command:remote:Command")).toEqual([]);
    });
  }
});
