// npm run bench: times program evaluation under the stand-in engine (what `pulumi preview`
// spends in the program) for 3, 10 and 50 nodes, and prints, from the cluster plan, the
// steps, SSH sessions per node and the critical path for each size.
import * as path from "path";
import { PROJECT, engineConfig, loadConfig, readStackFile, valuesAsEngineGives } from "../components/config";
import { Program, runUnderEngine } from "./engine";
import { planCluster, planNumbers } from "../components/cluster/plan";

const ROOT = path.resolve(__dirname, "..");

/** n nodes: three control-plane+etcd nodes that also run pods, the rest workers. */
export function benchNodes(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const roles = i < 3 ? "etcd,control-plane,worker" : "worker";
    return `name=node-${i + 1} ip=192.168.253.${20 + i} roles=${roles}`;
  });
}

async function main(): Promise<void> {
  const load = async () => ((await import("../index")) as unknown as { default: Program }).default;
  const base = readStackFile(ROOT, "dev");
  const rows: string[] = ["| nodes | evaluation (ms, best of 3) | resources | host steps | max SSH sessions per node | critical path (host steps) |", "| --- | --- | --- | --- | --- | --- |"];
  for (const n of [3, 10, 50]) {
    const values = { ...base, nodes: benchNodes(n) };
    let best = Infinity;
    let resources = 0;
    for (let i = 0; i < 3; i++) {
      const run = await runUnderEngine({ project: PROJECT, stack: "bench", config: engineConfig(values), load });
      if (run.error) throw run.error;
      best = Math.min(best, run.ms);
      resources = run.rec.resources.length;
    }
    const loaded = loadConfig(valuesAsEngineGives(values));
    if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
    const numbers = planNumbers(planCluster(loaded.config));
    const hostSteps = Object.values(numbers.hostStepsPerNode).reduce((a, b) => a + b, 0);
    rows.push(`| ${n} | ${best.toFixed(0)} | ${resources} | ${hostSteps} | ${Math.max(...Object.values(numbers.sshSessionsPerNode))} | ${numbers.criticalPath.length} |`);
    console.error(`${n} nodes: critical path ${numbers.criticalPath.join(" → ")}`);
  }
  console.log(rows.join("\n"));
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
