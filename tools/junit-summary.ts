// The conformance run's counts from ginkgo's JUnit report: only the specs ([It]), by the
// status ginkgo gives each (passed; failed, timedout, panicked or aborted; interrupted), and
// how many of the specs the run chose (its log's "Will run N of M specs") never ran. The
// suite's own nodes ([SynchronizedBeforeSuite], [ReportAfterSuite] …) are not tests.
// Usage: tsx tools/junit-summary.ts JUNIT.xml E2E.log SECONDS
import * as fs from "fs";

export interface JunitSummary {
  chosen: number | undefined;
  passed: number;
  failed: string[];
  interrupted: string[];
  notRun: number | undefined;
}

const FAILED = new Set(["failed", "timedout", "panicked", "aborted"]);
const unescape = (s: string) => s.replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

export function summarize(xml: string, log: string): JunitSummary {
  const specs = [...xml.matchAll(/<testcase name="([^"]*)"[^>]*?\sstatus="([a-z]+)"/g)].filter((m) => m[1].startsWith("[It]"));
  const named = (want: (s: string) => boolean) => specs.filter((m) => want(m[2])).map((m) => unescape(m[1]));
  const passed = named((s) => s === "passed").length;
  const failed = named((s) => FAILED.has(s));
  const interrupted = named((s) => s === "interrupted");
  // ginkgo colours its numbers on a terminal: "Will run \x1b[1m15\x1b[0m of \x1b[1m7579\x1b[0m specs"
  const will = /Will run (?:\x1b\[[0-9;]*m)?(\d+)(?:\x1b\[[0-9;]*m)? of/.exec(log);
  const chosen = will ? Number(will[1]) : undefined;
  return { chosen, passed, failed, interrupted, notRun: chosen === undefined ? undefined : chosen - passed - failed.length - interrupted.length };
}

export function summaryLine(s: JunitSummary, seconds: string, junit: string): string {
  const of = s.chosen === undefined ? "" : ` of the ${s.chosen} chosen, ${s.notRun} not run`;
  return `conformance: ${s.passed} passed, ${s.failed.length} failed, ${s.interrupted.length} interrupted${of}, in ${seconds} s (JUnit: ${junit})`;
}

if (require.main === module) {
  const [junit, log, seconds] = process.argv.slice(2);
  if (!junit || !log || !seconds) {
    console.error("usage: tsx tools/junit-summary.ts JUNIT.xml E2E.log SECONDS");
    process.exit(2);
  }
  const s = summarize(fs.readFileSync(junit, "utf8"), fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "");
  for (const f of s.failed) console.error(`  FAILED: ${f}`);
  for (const f of s.interrupted) console.error(`  INTERRUPTED: ${f}`);
  console.log(summaryLine(s, seconds, junit));
}
