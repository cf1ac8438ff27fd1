// kube-bench (the CIS Kubernetes Benchmark) as a judge of the lab, for npm run lab:e2e.
//   benchmark       prints the benchmark this lab is judged by (kube-bench's --benchmark)
//   config          prints kube-bench's component map for this lab's layout — where each
//                   component's unit, config, kubeconfig, CA and data directory are — from the
//                   program's own paths, as the benchmark's version-specific config.yaml (it
//                   overrides kube-bench's defaults, which name kubeadm's static-pod layout)
//   judge FILE…     reads kube-bench's JSON results (one file per node, named <node>.json):
//                   prints pass/fail/warn per node and fails on any FAIL that
//                   .ci/lab/kube-bench-justified.yaml does not justify with a reason
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { APISERVER_UNIT, CONTROLLER_MANAGER_UNIT, SCHEDULER_UNIT } from "../components/control-plane/plan";
import { ETCD_CONFIG, ETCD_DATA_DIR } from "../components/etcd/plan";
import { KUBECONFIG_DIR } from "../components/host/key-files";
import { KUBELET_CONFIG, KUBELET_KUBECONFIG, KUBELET_PKI, KUBELET_UNIT, KUBE_PROXY_CONFIG, KUBE_PROXY_KUBECONFIG, KUBE_PROXY_UNIT } from "../components/worker/plan";

export const BENCHMARK = "cis-1.11";
export const JUSTIFIED_FILE = path.join(__dirname, "..", ".ci", "lab", "kube-bench-justified.yaml");

/** One path for a kube-bench setting: the candidates list and the default are the same file. */
const one = (key: string, p: string) => ({ [`${key}s`]: [p], [`default${key}`]: p });

export function componentMap(): object {
  const etcd = { ...one("conf", ETCD_CONFIG), datadirs: [ETCD_DATA_DIR], defaultdatadir: ETCD_DATA_DIR };
  return {
    master: {
      apiserver: one("conf", APISERVER_UNIT),
      scheduler: { ...one("conf", SCHEDULER_UNIT), kubeconfig: [`${KUBECONFIG_DIR}/scheduler.conf`], defaultkubeconfig: `${KUBECONFIG_DIR}/scheduler.conf` },
      controllermanager: { ...one("conf", CONTROLLER_MANAGER_UNIT), kubeconfig: [`${KUBECONFIG_DIR}/controller-manager.conf`], defaultkubeconfig: `${KUBECONFIG_DIR}/controller-manager.conf` },
      etcd,
    },
    node: {
      kubelet: {
        svc: [KUBELET_UNIT], defaultsvc: KUBELET_UNIT,
        ...one("conf", KUBELET_CONFIG),
        kubeconfig: [KUBELET_KUBECONFIG], defaultkubeconfig: KUBELET_KUBECONFIG,
        cafile: [`${KUBELET_PKI}/ca.crt`], defaultcafile: `${KUBELET_PKI}/ca.crt`,
      },
      proxy: { ...one("conf", KUBE_PROXY_CONFIG), kubeconfig: [KUBE_PROXY_KUBECONFIG], defaultkubeconfig: KUBE_PROXY_KUBECONFIG, svc: [KUBE_PROXY_UNIT], defaultsvc: KUBE_PROXY_UNIT },
    },
    etcd: { etcd },
  };
}

interface Result { test_number: string; test_desc: string; status: string }
interface Control { id: string; tests: Array<{ results: Result[] }> }

/** Every check's result of one node's JSON output (an object with Controls, or a list of controls). */
export function resultsOf(json: unknown): Result[] {
  const controls: Control[] = Array.isArray(json) ? json : ((json as { Controls?: Control[] }).Controls ?? []);
  return controls.flatMap((c) => c.tests.flatMap((g) => g.results ?? []));
}

/** Justifications: check id → the reason this lab keeps that FAIL. */
export function readJustified(file = JUSTIFIED_FILE): Record<string, string> {
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
  for (const [id, why] of Object.entries(doc)) {
    if (!/^\d+(\.\d+)+$/.test(id) || typeof why !== "string" || why.trim().length < 20) throw new Error(`${file}: ${id} needs a check id and a reason of its own (a sentence)`);
  }
  return doc;
}

export interface Verdict { table: string[]; unjustified: string[]; stale: string[] }

export function judge(byNode: Record<string, unknown>, justified: Record<string, string>): Verdict {
  const table = ["node      pass fail warn info  (fail justified)"];
  const unjustified: string[] = [];
  const failing = new Set<string>();
  for (const [node, json] of Object.entries(byNode)) {
    const results = resultsOf(json);
    if (results.length === 0) throw new Error(`${node}: kube-bench reported no check`);
    const count = (s: string) => results.filter((r) => r.status === s).length;
    const fails = results.filter((r) => r.status === "FAIL");
    fails.forEach((r) => failing.add(r.test_number));
    for (const r of fails) if (!justified[r.test_number]) unjustified.push(`${node} ${r.test_number} ${r.test_desc}`);
    table.push(`${node.padEnd(9)} ${String(count("PASS")).padStart(4)} ${String(count("FAIL")).padStart(4)} ${String(count("WARN")).padStart(4)} ${String(count("INFO")).padStart(4)}  (${fails.filter((r) => justified[r.test_number]).length})`);
  }
  const stale = Object.keys(justified).filter((id) => !failing.has(id));
  return { table, unjustified, stale };
}

function main(argv: string[]): number {
  if (argv[0] === "benchmark") {
    console.log(BENCHMARK);
    return 0;
  }
  if (argv[0] === "config") {
    process.stdout.write(`# written by tools/kube-bench.ts: this lab's layout\n${YAML.stringify(componentMap(), { aliasDuplicateObjects: false })}`);
    return 0;
  }
  if (argv[0] === "judge" && argv.length > 1) {
    const byNode = Object.fromEntries(argv.slice(1).map((f) => [path.basename(f, ".json"), JSON.parse(fs.readFileSync(f, "utf8"))]));
    const v = judge(byNode, readJustified());
    console.log(v.table.join("\n"));
    for (const s of v.stale) console.log(`justified but passing on every node now (remove it from ${path.basename(JUSTIFIED_FILE)}): ${s}`);
    for (const u of v.unjustified) console.log(`FAIL, neither fixed nor justified: ${u}`);
    return v.unjustified.length ? 1 : 0;
  }
  console.error("usage: tools/kube-bench.ts benchmark | config | judge NODE.json…");
  return 2;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
