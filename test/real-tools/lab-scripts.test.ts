// The lab and CI shell scripts (.ci/, .ci/lab/) pass bash -n and shellcheck at warning
// level: they run as root and start daemons, so a quoting mistake is not harmless. The
// shell helpers the plans embed (components/<layer>/sh/*.sh) pass shellcheck as files, at
// every level.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { loadConfig } from "../../components/config";
import { ROOT, stackConfig } from "../harness";
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

describe("the conformance smoke set and skips (npm run lab:conformance)", () => {
  /** Every [Conformance] test of the pinned Kubernetes release, by name, from its own list. */
  const upstream = (): string[] => {
    const version = loadConfig(stackConfig("dev")).config!.versions.kubernetes;
    const r = run("bash", ["-c", `cd / && GOFLAGS=-mod=mod go mod download -json k8s.io/kubernetes@v${version}`]);
    const dir = (JSON.parse(r.stdout) as { Dir: string }).Dir;
    return (YAML.parse(fs.readFileSync(path.join(dir, "test/conformance/testdata/conformance.yaml"), "utf8")) as Array<{ codename: string }>).map((t) => t.codename);
  };
  const names = (file: string) => fs.readFileSync(path.join(ROOT, ".ci/lab", file), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#"));

  it("names only tests the pinned release's conformance suite has, as many as its header says", () => {
    const all = upstream();
    expect(all.length).toBeGreaterThan(400);
    const smoke = names("conformance-smoke.txt");
    expect(smoke.filter((n) => !all.includes(n))).toEqual([]);
    expect(new Set(smoke).size).toBe(smoke.length);
    const said = /The smoke set of npm run lab:conformance: (\d+) of the (\d+) \[Conformance\] tests/.exec(fs.readFileSync(path.join(ROOT, ".ci/lab/conformance-smoke.txt"), "utf8"))!;
    expect([Number(said[1]), Number(said[2])]).toEqual([smoke.length, all.length]);
    expect(names("conformance-skips.txt").filter((n) => !all.includes(n))).toEqual([]);
  });
});
