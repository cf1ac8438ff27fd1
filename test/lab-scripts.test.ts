// The lab and CI shell scripts (.ci/, .ci/lab/) pass bash -n and shellcheck at warning
// level: they run as root and start daemons, so a quoting mistake is not harmless.
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./harness";
import { run } from "./tools";

const scripts = [".ci", ".ci/lab", "test/upstream"].flatMap((d) => fs.readdirSync(path.join(ROOT, d)).filter((f) => f.endsWith(".sh") || f === "run").map((f) => path.join(d, f)));

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
