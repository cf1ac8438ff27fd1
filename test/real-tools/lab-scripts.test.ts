// The lab and CI shell scripts (.ci/, .ci/lab/) pass bash -n and shellcheck at warning
// level: they run as root and start daemons, so a quoting mistake is not harmless. The
// shell helpers the plans embed (components/<layer>/sh/*.sh) pass shellcheck as files, at
// every level.
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../harness";
import { run } from "../tools";

const scripts = [".ci", ".ci/lab", "test/upstream"].flatMap((d) => fs.readdirSync(path.join(ROOT, d)).filter((f) => f.endsWith(".sh") || f === "run").map((f) => path.join(d, f)));

const assets = (fs.readdirSync(path.join(ROOT, "components"), { recursive: true }) as string[]).filter((f) => /(^|\/)sh\/[^/]+\.sh$/.test(f)).map((f) => path.join("components", f));

describe("lab and CI scripts", () => {
  it("are all found", () => {
    expect(scripts).toEqual(expect.arrayContaining([".ci/run", ".ci/test.sh", ".ci/lab/e2e.sh", ".ci/lab/build-release-files.sh", ".ci/lab/build-guest-image.sh", ".ci/lab/engine.sh", ".ci/lab/flag-fixtures.sh", "test/upstream/build.sh"]));
  });
  it.each(scripts)("%s passes bash -n and shellcheck", (s) => {
    expect(run("bash", ["-n", path.join(ROOT, s)]).status).toBe(0);
    const r = run("shellcheck", ["--shell=bash", "--severity=warning", path.join(ROOT, s)]);
    expect(r.stdout).toBe("");
  });
});

describe("the shell helpers the plans embed", () => {
  it("are all found", () => {
    expect(assets).toEqual(expect.arrayContaining(["components/host/sh/put.sh", "components/node-prep/sh/fetch.sh", "components/vm/sh/virsh.sh"]));
  });
  it.each(assets)("%s passes bash -n and shellcheck", (s) => {
    expect(run("bash", ["-n", path.join(ROOT, s)]).status).toBe(0);
    expect(run("shellcheck", [path.join(ROOT, s)]).stdout).toBe("");
  });
});
