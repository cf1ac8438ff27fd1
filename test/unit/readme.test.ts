// The numbers the README states are the ones the code computes: each row of the benchmark
// table (resources the program registers, host steps, the most SSH sessions one node gets,
// the first up's critical path) for its node count. The evaluation time is measured, not
// checked.
import * as fs from "fs";
import * as path from "path";
import { benchNodes } from "../../tools/bench";
import { hostSteps, planNumbers } from "../../components/cluster/plan";
import { ROOT, planOf, runProgram, stackConfig } from "../harness";

const dev = stackConfig("dev");

function benchRows(): Array<{ nodes: number; resources: number; hostSteps: number; ssh: number; critical: number }> {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n");
  const start = readme.findIndex((l) => l.startsWith("| nodes | evaluation"));
  if (start < 0) throw new Error("README.md has no benchmark table");
  const rows = [];
  for (const line of readme.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    rows.push({ nodes: Number(cells[0]), resources: Number(cells[2]), hostSteps: Number(cells[3]), ssh: Number(cells[4]), critical: Number(cells[5]) });
  }
  return rows;
}

describe("the README's benchmark table", () => {
  const rows = benchRows();

  it("has the rows npm run bench prints (3, 10 and 50 nodes)", () => {
    expect(rows.map((r) => r.nodes)).toEqual([3, 10, 50]);
  });

  it.each(rows)("for $nodes nodes says what the plan and the program compute", async (row) => {
    const values = { ...dev, nodes: benchNodes(row.nodes) };
    const plan = planOf(values);
    const numbers = planNumbers(plan);
    const { rec, error } = await runProgram(values);
    expect(error).toBeUndefined();
    expect({ resources: rec.resources.length, hostSteps: hostSteps(plan).length, ssh: Math.max(...Object.values(numbers.sshSessionsPerNode)), critical: numbers.criticalPath.length }).toEqual({
      resources: row.resources,
      hostSteps: row.hostSteps,
      ssh: row.ssh,
      critical: row.critical,
    });
  });
});
