// npm run bench: times program evaluation under the stand-in engine (what `pulumi preview`
// spends in the program) for 3, 10 and 50 nodes, and prints resource counts, SSH sessions
// per node and the critical path for each size.
import * as path from "path";
import { PROJECT, engineConfig, readStackFile } from "../config";
import { countByType, criticalPath, evaluateProgram, sshSessionsPerHost, Program } from "./evaluate";

const ROOT = path.resolve(__dirname, "..", "..", "..");

/** n nodes: three control-plane+etcd nodes that also run pods, the rest workers. */
export function benchNodes(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const roles = i < 3 ? "etcd,control-plane,worker" : "worker";
    return `name=node-${i + 1} ip=192.168.253.${20 + i} roles=${roles}`;
  });
}

async function main(): Promise<void> {
  const { default: program } = (await import("../../index")) as unknown as { default: Program };
  const base = readStackFile(ROOT, "dev");
  const rows: string[] = ["| nodes | evaluation (ms, best of 3) | resources | host steps | max SSH sessions per node | critical path (host steps) |", "| --- | --- | --- | --- | --- | --- |"];
  for (const n of [3, 10, 50]) {
    const values = { ...base, nodes: benchNodes(n) };
    let best = Infinity;
    let last;
    for (let i = 0; i < 3; i++) {
      last = await evaluateProgram(program, { project: PROJECT, stack: "bench", config: engineConfig(values) });
      if (last.error) throw last.error;
      best = Math.min(best, last.ms);
    }
    const counts = countByType(last!.resources);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const ssh = Math.max(...Object.values(sshSessionsPerHost(last!.resources)));
    const cp = criticalPath(last!.resources);
    rows.push(`| ${n} | ${best.toFixed(0)} | ${total} | ${counts["k8slab:host:HostStep"]} | ${ssh} | ${cp.length} |`);
    console.error(`${n} nodes: critical path ${cp.join(" → ")}`);
  }
  console.log(rows.join("\n"));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
