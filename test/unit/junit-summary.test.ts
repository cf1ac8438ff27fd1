// The conformance run's summary (tools/junit-summary.ts, which .ci/lab/conformance.sh prints):
// on the weave lab of 2026-12-07 the first summary said "5 passed" of a run in which no spec
// passed — it counted ginkgo's suite nodes as tests. A report shaped as that run's was.
import * as fs from "fs";
import * as path from "path";
import { summarize, summaryLine } from "../../tools/junit-summary";
import { ROOT } from "../harness";

const tc = (name: string, status: string, body = "") => `<testcase name="${name}" classname="Kubernetes e2e suite" status="${status}" time="1.5">${body}</testcase>`;
const SPEC = (s: string) => `[It] [sig-network] ${s} [Conformance] [sig-network, Conformance]`;
const REPORT = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<testsuites tests="7584" disabled="7578" errors="0" failures="2" time="2296"><testsuite name="Kubernetes e2e suite" package="/e2e" tests="7584">',
  tc("[ReportBeforeSuite]", "passed"),
  tc("[SynchronizedBeforeSuite]", "passed"),
  tc(SPEC("DNS should provide DNS for the cluster"), "passed"),
  tc(SPEC("Services should serve a basic endpoint from pods"), "failed", '<failure message="Timeout: request did not complete" type="failed">…</failure>'),
  tc(SPEC("Services should serve multiport endpoints from pods"), "timedout", '<failure message="timed out" type="timedout">…</failure>'),
  tc(SPEC("Networking Granular Checks: Pods should function for intra-pod communication: udp"), "interrupted", '<failure message="interrupted" type="interrupted">…</failure>'),
  tc(SPEC("Proxy version v1 should proxy through a service and a pod"), "skipped", '<skipped message="skipped"></skipped>'),
  tc("[It] [sig-storage] a test the focus left out doesn&#39;t run", "skipped", '<skipped message="skipped"></skipped>'),
  tc("[ReportAfterSuite] Kubernetes e2e suite report", "passed"),
  tc("[ReportAfterSuite] Kubernetes e2e JUnit report", "passed"),
  "</testsuite></testsuites>",
].join("\n");
// ginkgo's header on a terminal, colours and all
const LOG = "Running Suite: Kubernetes e2e suite\nWill run \x1b[1m6\x1b[0m of \x1b[1m7579\x1b[0m specs\n";

describe("the conformance run's summary", () => {
  it("counts the specs only, by ginkgo's status, and how many of those chosen never ran", () => {
    const s = summarize(REPORT, LOG);
    expect(s.passed).toBe(1);
    expect(s.failed).toEqual([SPEC("Services should serve a basic endpoint from pods"), SPEC("Services should serve multiport endpoints from pods")]);
    expect(s.interrupted).toEqual([SPEC("Networking Granular Checks: Pods should function for intra-pod communication: udp")]);
    expect(s.chosen).toBe(6);
    expect(s.notRun).toBe(2);
    expect(summaryLine(s, "2296", "j.xml")).toBe("conformance: 1 passed, 2 failed, 1 interrupted of the 6 chosen, 2 not run, in 2296 s (JUnit: j.xml)");
  });

  it("says nothing about specs not run when the log has no header (and reads a plain one)", () => {
    expect(summarize(REPORT, "").notRun).toBeUndefined();
    expect(summaryLine(summarize(REPORT, ""), "5", "j.xml")).toBe("conformance: 1 passed, 2 failed, 1 interrupted, in 5 s (JUnit: j.xml)");
    expect(summarize(REPORT, "Will run 4 of 7579 specs").notRun).toBe(0);
  });

  it("is what the lab's conformance command prints", () => {
    expect(fs.readFileSync(path.join(ROOT, ".ci/lab/conformance.sh"), "utf8")).toContain('npx tsx tools/junit-summary.ts "$out/junit.xml" "$out/e2e.log"');
  });
});
