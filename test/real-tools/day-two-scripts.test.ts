// Day two's scripts, run for real: the drain, membership, upgrade drain/uncordon and etcd
// membership scripts against stub kubectl/etcdctl, the snapshot script and its timer
// (systemd-analyze), and the apiserver's shutdown flag against the pinned release's flags.
import * as fs from "fs";
import * as path from "path";
import { DRAINED_FOR_ANNOTATION, planNodeMembership, planUpgradeDrain, planUpgradeUncordon } from "../../components/worker/node-lifecycle";
import { renderApplyScript, renderDeleteScript } from "../../components/host/plan";
import { execStartWords, run, shellcheck, systemdVerify, tmpdir } from "../tools";
import { ETCD_SNAPSHOT_DIR, etcdUnit, planEtcdMembershipOf } from "../../components/etcd/plan";
import { SCHEDULED_PREFIX, SNAPSHOT_SCRIPT, snapshotScript, snapshotUnits } from "../../components/etcd/snapshots";
import { renderTree } from "../../components/render";
import { loadConfig } from "../../components/config";
import { hostSteps as hostStepsOf, planCluster } from "../../components/cluster/plan";
import { stackConfig } from "../harness";

const dev = stackConfig("dev");

describe("remove a worker", () => {
  const withK8s4 = { ...dev, nodes: [...(dev.nodes as string[]), "name=k8s-4 ip=192.168.253.142 roles=worker"] };

  it("drains through the eviction API with a deadline, says what blocked it, and deletes the Node object", () => {
    const c = loadConfig(withK8s4).config!;
    const step = planNodeMembership(c, c.nodes[3]);
    const bin = tmpdir("stub-kubectl-");
    try {
      // a kubectl that logs its arguments; `drain` fails when DRAIN_FAILS is set
      fs.writeFileSync(path.join(bin, "kubectl"), `#!/bin/bash\necho "$*" | sed 's/--kubeconfig [^ ]* --request-timeout 30s //' >> ${bin}/log\nif [[ $* == *" drain "* && -n \${DRAIN_FAILS:-} ]]; then echo "error: cannot evict pod as it would violate the pod's disruption budget" >&2; exit 1; fi\n`, { mode: 0o755 });
      const script = renderDeleteScript(step).replaceAll("/usr/local/bin/kubectl", `${bin}/kubectl`);
      expect(run("bash", ["-c", script])).toMatchObject({ status: 0 });
      expect(fs.readFileSync(path.join(bin, "log"), "utf8").trim().split("\n")).toEqual([
        "get node k8s-4",
        "cordon k8s-4",
        "drain k8s-4 --ignore-daemonsets --delete-emptydir-data --force --timeout=300s",
        "delete node k8s-4 --ignore-not-found",
      ]);
      fs.rmSync(path.join(bin, "log"));
      const blocked = run("env", ["DRAIN_FAILS=1", "bash", "-c", script]);
      expect(blocked.status).toBe(1);
      expect(blocked.stderr).toContain("disruption budget");
      expect(blocked.stderr).toContain("the drain of k8s-4 did not finish in 300 s");
      expect(fs.readFileSync(path.join(bin, "log"), "utf8")).not.toContain("delete node");
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it("joining waits for the Node and never uncordons it (an update that re-runs it leaves a node cordoned by hand cordoned)", () => {
    const c = loadConfig(withK8s4).config!;
    const bin = tmpdir("stub-kubectl-");
    try {
      fs.writeFileSync(path.join(bin, "kubectl"), `#!/bin/bash\necho "$*" | sed 's/--kubeconfig [^ ]* --request-timeout 30s //' >> ${bin}/log\n`, { mode: 0o755 });
      const script = renderApplyScript(planNodeMembership(c, c.nodes[3]), () => "").replaceAll("/usr/local/bin/kubectl", `${bin}/kubectl`);
      expect(run("bash", ["-c", script])).toMatchObject({ status: 0 });
      expect(fs.readFileSync(path.join(bin, "log"), "utf8").trim().split("\n")).toEqual(["get node k8s-4"]);
      expect(shellcheck(script).stdout).toBe("");
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe("etcd snapshots", () => {

  it("saves a snapshot atomically on schedule and keeps only the newest scheduled ones", () => {
    const dir = tmpdir("snapshots-");
    try {
      const bin = path.join(dir, "bin");
      fs.mkdirSync(bin);
      // an etcdctl that writes the file it is asked for
      fs.writeFileSync(path.join(bin, "etcdctl"), '#!/bin/bash\nfor a; do last=$a; done\necho snapshot > "$last"\n', { mode: 0o755 });
      const snapDir = path.join(dir, "snaps");
      const script = snapshotScript(2).replaceAll("/usr/local/bin/etcdctl", `${bin}/etcdctl`).replaceAll(ETCD_SNAPSHOT_DIR, snapDir);
      expect(shellcheck(script).stdout).toBe("");
      fs.mkdirSync(snapDir);
      fs.writeFileSync(path.join(snapDir, "20250101T000000.db"), "before a restart"); // not the schedule's to prune
      for (let i = 0; i < 4; i++) {
        expect(run("bash", ["-c", script])).toMatchObject({ status: 0 });
        run("sleep", ["1.1"]);
      }
      const files = fs.readdirSync(snapDir).sort();
      expect(files.filter((f) => f.startsWith(SCHEDULED_PREFIX))).toHaveLength(2);
      expect(files).toContain("20250101T000000.db");
      expect(files.some((f) => f.endsWith(".part"))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30000);

  it("runs from a timer systemd accepts, on every member, and is switched off with 'off'", () => {
    const c = loadConfig(dev).config!;
    const units = snapshotUnits(c.etcdSnapshots!.schedule);
    expect(run("systemd-analyze", ["calendar", c.etcdSnapshots!.schedule]).status).toBe(0);
    const r = systemdVerify({ "etcd-snapshot.service": units.service, "etcd-snapshot.timer": units.timer, "etcd.service": etcdUnit() }, [SNAPSHOT_SCRIPT, "/usr/local/bin/etcd"]);
    expect(r.stderr).toBe("");
    const steps = hostStepsOf(planCluster(c)).filter((s) => s.layer === "etcd-snapshots");
    expect(steps.map((s) => s.plan.node)).toEqual(["k8s-1", "k8s-2", "k8s-3"]);
    expect(hostStepsOf(planCluster(loadConfig({ ...dev, etcdSnapshotSchedule: "off" }).config!)).filter((s) => s.layer === "etcd-snapshots")).toEqual([]);
  });
});

describe("drain around an upgrade of a node's kubelet or runtime", () => {
  const c = loadConfig(dev).config!;
  const releases = `kubernetes=${c.versions.kubernetes},containerd=${c.versions.containerd},runc=${c.versions.runc}`;
  /** What the Node reports when it runs this config's releases. */
  const current = { KUBELET_VERSION: `v${c.versions.kubernetes}`, RUNTIME_VERSION: `containerd://v${c.versions.containerd}`, RELEASES: releases };

  /** Runs a step's apply script with a kubectl that logs its arguments and answers from the environment. */
  function withStubKubectl(script: string, env: Record<string, string>): { status: number | null; stderr: string; calls: string[] } {
    const bin = tmpdir("stub-kubectl-");
    try {
      fs.writeFileSync(
        path.join(bin, "kubectl"),
        [
          "#!/bin/bash",
          // FLAKY=N: the first N requests time out, as an apiserver under load answers
          `if [[ -n \${FLAKY:-} ]]; then n=$(cat ${bin}/flaky 2>/dev/null || echo 0); if ((n < FLAKY)); then echo $((n + 1)) > ${bin}/flaky; echo "Unable to connect to the server: context deadline exceeded" >&2; exit 1; fi; fi`,
          `echo "$*" | sed 's/--kubeconfig [^ ]* --request-timeout 30s //' >> ${bin}/log`,
          'if [[ $* == *" get node "* ]]; then',
          '  if [[ -n ${NODE_MISSING:-} ]]; then [[ $* == *--ignore-not-found* ]] && exit 0; echo "Error from server (NotFound)" >&2; exit 1; fi',
          '  case $* in',
          '    *"-o name"*) echo "node/${*: -3:1}" ;;',
          '    *kubeletVersion*) echo -n "$KUBELET_VERSION" ;;',
          '    *containerRuntimeVersion*) echo -n "$RUNTIME_VERSION" ;;',
          `    *releases*) echo -n "\${RELEASES:-}" ;;`,
          `    *drained-for*) echo -n "\${DRAINED:-}" ;;`,
          "  esac",
          "fi",
          '[[ $* == *" annotate "* && -n ${ANNOTATE_FAILS:-} ]] && { echo "Error from server (NotFound)" >&2; exit 1; }',
          "exit 0",
          "",
        ].join("\n"),
        { mode: 0o755 },
      );
      fs.writeFileSync(path.join(bin, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const r = run("env", [`PATH=${bin}:${process.env.PATH}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), "bash", "-c", script.replaceAll("/usr/local/bin/kubectl", `${bin}/kubectl`)]);
      const log = path.join(bin, "log");
      return { status: r.status, stderr: r.stderr, calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [] };
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  }
  const apply = (plan: ReturnType<typeof planUpgradeDrain>) => renderApplyScript(plan, () => "");
  const drains = (calls: string[]) => calls.filter((x) => /^(annotate|cordon|drain|uncordon) /.test(x));
  const drainCalls = [
    `annotate node k8s-2 --overwrite ${DRAINED_FOR_ANNOTATION}=${releases}`,
    "cordon k8s-2",
    "drain k8s-2 --ignore-daemonsets --delete-emptydir-data --timeout=300s",
  ];

  it("stops each apiserver in seconds: open watches are closed once the in-flight requests drained, with a flag the pinned release has", () => {
    const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "..", `upstream/flags/kube-apiserver-v${c.versions.kubernetes}.json`), "utf8")) as { flags: Record<string, { deprecated: boolean }> };
    expect(fixture.flags["shutdown-send-retry-after"]).toEqual({ deprecated: false });
    const units = [...renderTree(c)].filter(([p]) => p.endsWith("/etc/systemd/system/kube-apiserver.service"));
    expect(units).toHaveLength(c.nodes.filter((n) => n.roles.has("control-plane")).length);
    for (const [p, text] of units) {
      const words = execStartWords(text)!;
      expect({ unit: p, flags: words.filter((w) => w.startsWith("--shutdown")) }).toEqual({ unit: p, flags: ["--shutdown-send-retry-after=true"] });
    }
  });

  it("drains a node whose kubelet, containerd or recorded runc runs another release, marks it, and leaves other nodes alone", () => {
    const drain = apply(planUpgradeDrain(c, c.nodes[1]));
    expect(shellcheck(drain).stdout).toBe("");
    // another kubelet, another containerd (as upstream's and the lab's builds report it), another runc (only in the record)
    for (const moved of [
      { KUBELET_VERSION: "v1.35.4" },
      { RUNTIME_VERSION: "containerd://v2.2.0" },
      { RUNTIME_VERSION: "containerd://2.2.0" },
      { RELEASES: `kubernetes=${c.versions.kubernetes},containerd=${c.versions.containerd},runc=1.3.3` },
    ]) {
      const r = withStubKubectl(drain, { ...current, ...moved });
      expect({ moved, status: r.status, drains: drains(r.calls) }).toEqual({ moved, status: 0, drains: drainCalls });
    }
    // a node set up by an older version of this program (no record) is drained for its runtime
    expect(drains(withStubKubectl(drain, { ...current, RELEASES: "", RUNTIME_VERSION: "containerd://v2.2.0" }).calls)).toEqual(drainCalls);
    // already there (with or without the record), or no Node yet (a first up): nothing but questions
    for (const same of [current, { ...current, RELEASES: "" }, { ...current, RUNTIME_VERSION: `containerd://${c.versions.containerd}` }]) {
      const r = withStubKubectl(drain, same);
      expect({ same, status: r.status, drains: drains(r.calls) }).toEqual({ same, status: 0, drains: [] });
    }
    expect(withStubKubectl(drain, { ...current, NODE_MISSING: "1" })).toMatchObject({ status: 0, calls: ["get node k8s-2 --ignore-not-found -o name"] });
    // requests that time out are tried again (found by a TCG lab's first up); an apiserver that
    // never answers fails the step — it is not read as "no such node", which would skip the drain
    const flaky = withStubKubectl(drain, { ...current, KUBELET_VERSION: "v1.35.4", FLAKY: "3" });
    expect({ status: flaky.status, drains: drains(flaky.calls) }).toEqual({ status: 0, drains: drainCalls });
    const down = withStubKubectl(drain, { ...current, KUBELET_VERSION: "v1.35.4", FLAKY: "1000" });
    expect(down.status).not.toBe(0);
    expect(down.stderr).toContain("the apiserver did not answer for 30 s");
  });

  it("records the releases once the node reports them, and uncordons only a node the upgrade drained", () => {
    const uncordon = apply(planUpgradeUncordon(c, c.nodes[1]));
    expect(shellcheck(uncordon).stdout).toBe("");
    const record = `annotate node k8s-2 --overwrite k8s-lab.io/releases=${releases}`;
    const drained = withStubKubectl(uncordon, { ...current, DRAINED: releases });
    expect(drained.status).toBe(0);
    expect(drains(drained.calls)).toEqual([record, "uncordon k8s-2", `annotate node k8s-2 ${DRAINED_FOR_ANNOTATION}-`]);
    const byHand = withStubKubectl(uncordon, current);
    expect(drains(byHand.calls)).toEqual([record]);
    // a request that times out is tried again: the step does not fail on it (it did on a TCG lab)
    for (const n of ["1", "2", "5"]) {
      const flaky = withStubKubectl(uncordon, { ...current, DRAINED: releases, FLAKY: n });
      expect({ n, status: flaky.status, drains: drains(flaky.calls) }).toEqual({ n, status: 0, drains: [record, "uncordon k8s-2", `annotate node k8s-2 ${DRAINED_FOR_ANNOTATION}-`] });
    }
    // an apiserver that stops answering after the record is no "not drained": the step fails, the node is not left cordoned in silence
    const late = withStubKubectl(uncordon.replace(/^(drained=\$\(api )/m, "export FLAKY=1000; $1"), { ...current, DRAINED: releases });
    expect(late.status).not.toBe(0);
    // its delete takes the record away, and does not fail when the Node is gone
    const undo = renderDeleteScript(planUpgradeUncordon(c, c.nodes[1]));
    expect(shellcheck(undo).stdout).toBe("");
    expect(withStubKubectl(undo, current)).toMatchObject({ status: 0, calls: ["annotate node k8s-2 k8s-lab.io/releases-"] });
    expect(withStubKubectl(undo.replaceAll("|| true", ""), { ...current, ANNOTATE_FAILS: "1" }).status).not.toBe(0);
    expect(withStubKubectl(undo, { ...current, ANNOTATE_FAILS: "1" }).status).toBe(0);
  });
});

describe("an etcd member's membership check", () => {
  it("does not fail when etcdctl's output is long (grep -q would stop reading; under pipefail etcdctl's SIGPIPE failed the step on a VM)", () => {
    const c = loadConfig(dev).config!;
    const bin = tmpdir("stub-etcdctl-");
    try {
      // the member's own line first, then far more than a pipe holds
      fs.writeFileSync(path.join(bin, "etcdctl"), `#!/bin/bash\necho "8e9e05c52164694d, started, k8s-2, https://192.168.253.139:2380, https://192.168.253.139:2379, false"\nseq 1 200000 | sed 's/^/ffff, started, other, https:\\/\\/10.0.0.1:2380, x, false /'\n`, { mode: 0o755 });
      const script = renderApplyScript(planEtcdMembershipOf(c.nodes[1]), () => "").replaceAll("/usr/local/bin/etcdctl", `${bin}/etcdctl`);
      for (let i = 0; i < 5; i++) expect(run("bash", ["-c", script])).toMatchObject({ status: 0 });
      // and it still fails when the member is missing
      expect(run("bash", ["-c", script.replaceAll("192.168.253.139:2380", "192.168.253.99:2380")]).status).toBe(1);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});
