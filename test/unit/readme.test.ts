// The numbers the documentation states are the ones the code computes: each row of the
// benchmark table in docs/testing.md (resources the program registers, host steps, the most
// SSH sessions one node gets, the first up's critical path) for its node count, and the
// releases and resource count the README names. The evaluation time is measured, not
// checked. And the README stays short, and every link of the README and docs/ leads somewhere.
import * as fs from "fs";
import * as path from "path";
import { benchNodes } from "../../tools/bench";
import { hostSteps, planNumbers } from "../../components/cluster/plan";
import { ROOT, planOf, runProgram, stackConfig } from "../harness";
import { CONFIG_KEYS } from "../../components/config";

const dev = stackConfig("dev");

function benchRows(): Array<{ nodes: number; resources: number; hostSteps: number; ssh: number; critical: number }> {
  const readme = fs.readFileSync(path.join(ROOT, "docs/testing.md"), "utf8").split("\n");
  const start = readme.findIndex((l) => l.startsWith("| nodes | evaluation"));
  if (start < 0) throw new Error("docs/testing.md has no benchmark table");
  const rows = [];
  for (const line of readme.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    rows.push({ nodes: Number(cells[0]), resources: Number(cells[2]), hostSteps: Number(cells[3]), ssh: Number(cells[4]), critical: Number(cells[5]) });
  }
  return rows;
}

describe("the benchmark table (docs/testing.md)", () => {
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

describe("the 200-node numbers (docs/testing.md)", () => {
  it("are what the plan computes", () => {
    const text = fs.readFileSync(path.join(ROOT, "docs/testing.md"), "utf8").replace(/\s+/g, " ");
    const m = /At 200 nodes \(plan numbers\): (\d+) host steps, (\d+) SSH sessions on the first control-plane node \([^)]*\), (\d+) and (\d+) on the other two, (\d+) on a worker, and the same critical path of (\d+) host steps/.exec(text);
    expect(m).not.toBeNull();
    const numbers = planNumbers(planOf({ ...dev, nodes: benchNodes(200) }));
    const ssh = numbers.sshSessionsPerNode;
    expect(m!.slice(1).map(Number)).toEqual([hostSteps(planOf({ ...dev, nodes: benchNodes(200) })).length, ssh["node-1"], ssh["node-2"], ssh["node-3"], ssh["node-10"], numbers.criticalPath.length]);
  });
});

const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const DOCS = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

describe("the README", () => {
  it("is short: for users (design, testing and the offline lab are in docs/)", () => {
    expect(README.split("\n").length).toBeLessThanOrEqual(250);
    expect(DOCS.length).toBeGreaterThan(5);
  });

  it("names the default releases the config model has", () => {
    const line = /Releases: Kubernetes (\S+), etcd (\S+),\s+containerd (\S+), runc (\S+), CNI plugins (\S+), crictl (\S+),/.exec(README);
    expect(line).not.toBeNull();
    const [, kubernetes, etcd, containerd, runc, cni, crictl] = line!;
    expect({ kubernetes, etcd, containerd, runc, cni, crictl }).toEqual({
      kubernetes: CONFIG_KEYS.kubernetesVersion.default,
      etcd: CONFIG_KEYS.etcdVersion.default,
      containerd: CONFIG_KEYS.containerdVersion.default,
      runc: CONFIG_KEYS.runcVersion.default,
      cni: CONFIG_KEYS.cniPluginsVersion.default,
      crictl: CONFIG_KEYS.crictlVersion.default,
    });
  });

  it("says about how many resources the dev stack creates (within 10 %)", async () => {
    const said = Number(/about (\d+)\s+resources/.exec(README)![1]);
    const { rec, error } = await runProgram(dev);
    expect(error).toBeUndefined();
    expect(Math.abs(rec.resources.length - said) / rec.resources.length).toBeLessThan(0.1);
  });
});

/** GitHub's anchor of a heading. */
const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");

describe("links in the README and docs/", () => {
  it("lead to files that exist and to headings they have", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const doc of DOCS) {
      const text = fs.readFileSync(path.join(ROOT, doc), "utf8");
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue;
        const [file, hash] = target.split("#");
        const resolved = file ? path.normalize(path.join(path.dirname(doc), file)) : doc;
        checked++;
        if (!fs.existsSync(path.join(ROOT, resolved))) {
          broken.push(`${doc}: ${target} (no ${resolved})`);
          continue;
        }
        if (hash && resolved.endsWith(".md")) {
          const headings = fs.readFileSync(path.join(ROOT, resolved), "utf8").split("\n").filter((l) => /^#+ /.test(l)).map((l) => anchor(l.replace(/^#+ /, "")));
          if (!headings.includes(hash)) broken.push(`${doc}: ${target} (no heading #${hash} in ${resolved})`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(8);
  });
});
