// How npm run lab:conformance (.ci/lab/conformance.sh) chooses the tests: bash runs the real
// script with a stand-in ginkgo that records its arguments and `ip netns exec` as a plain
// exec; the chosen patterns are then judged as ginkgo would, as regular expressions over
// real test names. The lab run of 2026-12-08 found --full choosing 6126 specs: the focus
// '\[Conformance\]' had lost its backslashes in ${focus:-…}, a character class that matches
// nearly every name.
import * as fs from "fs";
import * as path from "path";
import { loadConfig } from "../../components/config";
import { ROOT, stackConfig } from "../harness";
import { runWithStandIns, tmpdir } from "../tools";

const CONFORMANCE = "[sig-network] DNS should provide DNS for the cluster [Conformance]";
const SERIAL = "[sig-scheduling] SchedulerPredicates [Serial] validates resource limits of pods that are allowed to run [Conformance]";
const NOT_CONFORMANCE = "[sig-storage] In-tree Volumes [Driver: local] [LocalVolumeType: dir-link-bindmounted] volumeMode should fail to create pod [Slow]";
const lines = (file: string) => fs.readFileSync(path.join(ROOT, ".ci/lab", file), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#"));

/** ginkgo's arguments for `conformance.sh ARGS` (focus, skip, procs, timeout). */
function ginkgoArgs(args: string[]): { status: number | null; flags: Record<string, string>; stderr: string } {
  const dir = tmpdir("conformance-run-");
  const version = loadConfig(stackConfig("dev")).config!.versions.kubernetes;
  const kit = path.join(dir, "cache", `conformance-${version}`);
  fs.mkdirSync(kit, { recursive: true });
  fs.mkdirSync(path.join(dir, "run"));
  fs.writeFileSync(path.join(dir, "run", "admin.conf"), "apiVersion: v1\n");
  fs.writeFileSync(path.join(kit, "e2e.test"), "", { mode: 0o755 });
  // records one argument a line, writes a report of one passed spec where it is told to
  fs.writeFileSync(
    path.join(kit, "ginkgo"),
    `#!/bin/bash
out=
for a in "$@"; do printf '%s\\n' "$a" >> ${dir}/calls.log; [[ $a == --output-dir=* ]] && out=\${a#--output-dir=}; done
printf '%s\\n' '<testsuites><testsuite name="Kubernetes e2e suite"><testcase name="[It] ${CONFORMANCE}" status="passed" time="1"></testcase></testsuite></testsuites>' > "$out/junit.xml"
`,
    { mode: 0o755 },
  );
  const script = `
    set -euo pipefail
    ip() { [[ $1 == netns && $2 == exec ]] || return 1; shift 3; "$@"; }
    export -f ip
    K8S_LAB_CACHE=${dir}/cache E2E_DIR=${dir}/run bash ${ROOT}/.ci/lab/conformance.sh ${args.map((a) => `'${a}'`).join(" ")}
  `;
  const r = runWithStandIns(script, dir);
  const flags: Record<string, string> = {};
  for (const c of r.calls) {
    const m = /^--(ginkgo\.focus|ginkgo\.skip|procs|timeout)=(.*)$/.exec(c);
    if (m) flags[m[1]] = m[2];
  }
  return { status: r.status, flags, stderr: r.stderr };
}

describe("the tests npm run lab:conformance chooses", () => {
  it("--full: every [Conformance] test but [Serial] and [Disruptive] ones and the named skips", () => {
    const r = ginkgoArgs(["--full", "--timeout", "2h"]);
    expect(r.status).toBe(0);
    const focus = new RegExp(r.flags["ginkgo.focus"]);
    const skip = new RegExp(r.flags["ginkgo.skip"]);
    const chosen = (name: string) => focus.test(name) && !skip.test(name);
    expect(chosen(CONFORMANCE)).toBe(true);
    expect(chosen(NOT_CONFORMANCE)).toBe(false);
    expect(chosen(SERIAL)).toBe(false);
    const skips = lines("conformance-skips.txt");
    expect(skips.length).toBeGreaterThanOrEqual(3);
    for (const s of skips) expect({ s, chosen: chosen(s) }).toEqual({ s, chosen: false });
    expect(r.flags.timeout).toBe("2h");
    expect(r.flags.procs).toBe("1");
  });

  it("by default: the smoke set's tests, each by its exact name, and nothing else", () => {
    const r = ginkgoArgs([]);
    expect(r.status).toBe(0);
    const focus = new RegExp(r.flags["ginkgo.focus"]);
    const smoke = lines("conformance-smoke.txt");
    expect(smoke.length).toBeGreaterThan(10);
    for (const s of smoke) expect({ s, chosen: focus.test(s) }).toEqual({ s, chosen: true });
    expect(focus.test(NOT_CONFORMANCE)).toBe(false);
    expect(focus.test(CONFORMANCE.replace("for the cluster", "for pods"))).toBe(false);
    expect(r.flags.timeout).toBe("24h");
  });
});
