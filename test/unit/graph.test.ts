// The resource graph of the program: every resource's URN and the order between them
// (explicit dependencies, transitively reduced) for four stacks, compared with the
// recorded graph in test/fixtures/graph/. A change to a URN replaces the resource on every
// existing stack; a change to the order changes what `up` does first. When either is
// intended, regenerate with UPDATE_GRAPH=1 npx jest test/graph.test.ts and review the diff.
import * as fs from "fs";
import * as path from "path";
import { graphText, resourceGraph, transitiveReduction } from "../graph";
import { ROOT, runProgram, stackConfig, SPLIT_ROLE_NODES } from "../harness";

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
