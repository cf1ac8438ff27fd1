// kube-bench as the lab's CIS judge (tools/kube-bench.ts): the component map it hands
// kube-bench names the files this program's steps really write (so kube-bench's file checks
// read ours, not kubeadm's), and the judge fails on any FAIL not justified, counts per node,
// and refuses results with no check in them (a run that checked nothing).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hostSteps } from "../../components/cluster";
import { ETCD_DATA_DIR } from "../../components/etcd/plan";
import { componentMap, judge, readJustified, resultsOf } from "../../tools/kube-bench";
import { planOf, stackConfig } from "../harness";

const written = new Set(hostSteps(planOf(stackConfig("dev"))).flatMap((s) => s.plan.files.map((f) => f.path)));

/** Every string value of the map under a key ending in conf/svc/kubeconfig/cafile (lists too). */
function paths(o: unknown, key = ""): Array<[string, string]> {
  if (typeof o === "string") return [[key, o]];
  if (Array.isArray(o)) return o.flatMap((v) => paths(v, key));
  if (o && typeof o === "object") return Object.entries(o).flatMap(([k, v]) => paths(v, `${key}.${k}`));
  return [];
}

describe("kube-bench's component map", () => {
  const all = paths(componentMap());
  it("names, for every component, files that this program's host steps write", () => {
    const files = all.filter(([k]) => !/datadir/.test(k));
    expect(files.length).toBeGreaterThanOrEqual(20);
    const missing = files.filter(([, p]) => !written.has(p));
    expect(missing).toEqual([]);
    expect(written.has("/etc/kubernetes/manifests/kube-apiserver.yaml")).toBe(false); // kubeadm's default, not ours
  });
  it("gives etcd's data directory as the etcd step uses it, for both targets", () => {
    expect(all.filter(([k]) => /datadir/.test(k)).map(([, p]) => p)).toEqual([ETCD_DATA_DIR, ETCD_DATA_DIR, ETCD_DATA_DIR, ETCD_DATA_DIR]);
  });
});

const result = (id: string, status: string) => ({ test_number: id, test_desc: `check ${id}`, status });
const node = (...r: Array<ReturnType<typeof result>>) => ({ Controls: [{ id: "1", tests: [{ results: r }] }], Totals: {} });

describe("the kube-bench judge", () => {
  it("counts per node and passes when every FAIL is justified", () => {
    const v = judge({ "k8s-1": node(result("1.1.1", "PASS"), result("1.2.3", "FAIL"), result("4.1.1", "WARN")), "k8s-2": node(result("1.2.3", "FAIL")) }, { "1.2.3": "a reason long enough to be one" });
    expect(v.unjustified).toEqual([]);
    expect(v.table).toEqual(["node      pass fail warn info  (fail justified)", "k8s-1        1    1    1    0  (1)", "k8s-2        0    1    0    0  (1)"]);
  });
  it("names each FAIL that is neither fixed nor justified, and justifications nothing fails any more", () => {
    const v = judge({ "k8s-1": node(result("1.2.3", "FAIL"), result("2.1", "FAIL")) }, { "2.1": "a reason long enough to be one", "9.9": "a reason long enough to be one" });
    expect(v.unjustified).toEqual(["k8s-1 1.2.3 check 1.2.3"]);
    expect(v.stale).toEqual(["9.9"]);
  });
  it("refuses a node whose results hold no check (kube-bench ran nothing)", () => {
    expect(() => judge({ "k8s-1": { Controls: [] } }, {})).toThrow("k8s-1: kube-bench reported no check");
    expect(resultsOf([{ id: "1", tests: [{ results: [result("1.1.1", "PASS")] }] }])).toHaveLength(1); // a list of controls too
  });
  it("reads the lab's justifications, and refuses one without a reason", () => {
    expect(typeof readJustified()).toBe("object");
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kb-")), "j.yaml");
    fs.writeFileSync(f, '"1.2.3": "ok"\n');
    expect(() => readJustified(f)).toThrow("1.2.3 needs a check id and a reason");
  });
});
