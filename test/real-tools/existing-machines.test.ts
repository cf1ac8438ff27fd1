// Machines the program did not make (hostMode: existing): a node's removal (or `pulumi
// destroy`) must leave the machine as it was. The plan's order (the footprint first of all a
// node's steps, the pod teardown after its runtime, kubelet and kube-proxy), then the real
// scripts on a stand-in machine: a chroot in a user, mount and PID namespace of its own (the
// host's /usr under an overlay, its own /etc, /var, /opt; real mounts, real find and umount),
// so nothing on this machine is touched.
import * as fs from "fs";
import * as path from "path";
import { loadConfig } from "../../components/config";
import { ClusterPlan, HostStep, planCluster } from "../../components/cluster/plan";
import { FOOTPRINT_RECORD, PACKAGES_BEFORE, footprintDirs } from "../../components/host/footprint";
import { renderApplyScript, renderDeleteScript, stepDigests } from "../../components/host/plan";
import { stackConfig } from "../harness";
import { run, shellcheck, tmpdir } from "../tools";

const existing = (v: Record<string, unknown> = {}) => {
  const loaded = loadConfig({ ...stackConfig("dev"), hostMode: "existing", baseImagePath: undefined, cni: "bridge", dashboard: false, ...v });
  expect(loaded.errors ?? []).toEqual([]);
  return loaded.config!;
};
const hostSteps = (p: ClusterPlan) => p.steps.filter((s): s is HostStep => s.kind === "host");
const noMaterial = () => "(no key material in this test)";

/** Every step `id` waits for, directly or not. */
function ancestors(p: ClusterPlan, id: string): Set<string> {
  const out = new Set<string>();
  const todo = [id];
  while (todo.length) {
    const x = todo.pop()!;
    for (const e of p.edges) if (e.after === x && !out.has(e.before)) out.add(e.before), todo.push(e.before);
  }
  return out;
}

describe("the plan on machines the program did not make", () => {
  const plan = planCluster(existing());
  const steps = hostSteps(plan);

  it("records each node's directories before any other step of the node, so that its delete runs after all of theirs", () => {
    const footprints = steps.filter((s) => s.layer === "footprint");
    expect(footprints.map((s) => s.id)).toEqual(["footprint-k8s-1", "footprint-k8s-2", "footprint-k8s-3"]);
    let checked = 0;
    for (const s of steps.filter((x) => x.layer !== "footprint")) {
      expect({ step: s.id, waitsForFootprint: ancestors(plan, s.id).has(`footprint-${s.plan.node}`) }).toEqual({ step: s.id, waitsForFootprint: true });
      checked++;
    }
    expect(checked).toBeGreaterThan(40);
    // never replaced while the node stays: a new program version updates it in place
    for (const f of footprints) expect(f.plan.identity).toEqual([f.node]);
  });

  it("tears a node's pods down after its runtime, kubelet and kube-proxy are there (so before their deletes), and after its drain", () => {
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      const before = ancestors(plan, `pod-teardown-${n}`);
      for (const layer of ["containerd", "kubelet", "kube-proxy", "pod-bridge"]) expect({ n, layer, before: before.has(`${layer}-${n}`) }).toEqual({ n, layer, before: true });
      expect(ancestors(plan, `node-${n}`).has(`pod-teardown-${n}`)).toBe(true);
    }
  });

  it("adds nothing to a lab of VMs (their disks go with them): the same steps as before", () => {
    const vms = hostSteps(planCluster(loadConfig({ ...stackConfig("dev"), cni: "bridge", dashboard: false }).config!));
    expect(vms.length).toBeGreaterThan(40);
    expect(vms.filter((s) => ["footprint", "pod-teardown"].includes(s.layer))).toEqual([]);
    expect(steps.filter((s) => !["footprint", "pod-teardown"].includes(s.layer)).map((s) => s.id)).toEqual(vms.map((s) => s.id));
    expect(steps.length).toBe(vms.length + 6);
  });

  it("lists in the footprint every directory the node's steps write to and their services make", () => {
    const k2 = steps.filter((s) => s.plan.node === "k8s-2" && s.layer !== "footprint").map((s) => s.plan);
    const dirs = footprintDirs(k2);
    for (const d of ["/etc/kubernetes/pki/etcd", "/var/lib/kubelet/pki", "/opt/containerd", "/opt/cni/bin", "/var/lib/etcd", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec", "/var/lib/cni/networks/k8s-lab", "/var/lib/k8s-lab"]) expect(dirs).toContain(d);
    for (const s of k2) for (const f of s.files) expect(dirs).toContain(path.posix.dirname(f.path));
  });

  // Found on the real existing machines (run38a): with wipeDataOnDestroy the kubelet's delete
  // removed /var/lib/kubelet, and a rolled kubelet (kubeletMaxPods 110 → 90) runs that delete
  // before its new apply: it failed on the pods' mounted volumes, and an etcd upgrade would
  // have removed the member's data.
  it("with wipeDataOnDestroy, no step's own delete (which its replacement runs too) removes data: the node's footprint does, once the node goes", () => {
    const wiping = hostSteps(planCluster(existing({ wipeDataOnDestroy: true })));
    const holding = wiping.filter((s) => s.plan.dataDirs?.length);
    expect(holding.map((s) => s.layer).sort()).toEqual(expect.arrayContaining(["containerd", "etcd", "kube-proxy", "kubelet"]));
    expect(holding.length).toBeGreaterThanOrEqual(12);
    for (const s of holding) {
      const del = renderDeleteScript(s.plan);
      for (const d of s.plan.dataDirs!) expect({ step: s.id, removes: del.split("\n").some((l) => l.startsWith("rm -rf -- ") && l.split(" ").includes(d)) }).toEqual({ step: s.id, removes: false });
    }
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      const del = renderDeleteScript(wiping.find((s) => s.id === `footprint-${n}`)!.plan);
      const data = holding.filter((s) => s.plan.node === n).flatMap((s) => s.plan.dataDirs!);
      expect(data).toContain("/var/lib/kubelet");
      for (const d of data) expect({ n, d, removed: del.includes(` ${d}`) }).toEqual({ n, d, removed: true });
    }
    // without the key the footprint removes no data
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) expect(renderDeleteScript(steps.find((s) => s.id === `footprint-${n}`)!.plan)).not.toContain("/var/lib/etcd ");
  });

  it("a lab made before the data removal moved keeps its steps: with wipeDataOnDestroy their triggers count it as before (a replacement would run the recorded delete)", () => {
    const digest = (wipe: boolean) => Object.fromEntries(hostSteps(planCluster(existing({ wipeDataOnDestroy: wipe }))).filter((s) => s.plan.dataDirs?.length).map((s) => [s.id, stepDigests(s.plan, (r) => `material:${r}`, wipe).script]));
    const [on, off] = [digest(true), digest(false)];
    expect(Object.keys(on).length).toBeGreaterThanOrEqual(12);
    // the delete scripts are the same with and without the key; the triggers still differ, as they did
    for (const id of Object.keys(on)) expect({ id, same: on[id] === off[id] }).toEqual({ id, same: false });
  });
});

/**
 * Runs `script` as root in a chroot standing for a machine: the host's /usr under an
 * overlay, its own /etc, /var, /opt, /proc; stand-ins in /usr/local/sbin come first on PATH.
 * Returns the status, what it printed, and the machine's tree afterwards (every entry, with
 * the files' contents), from `setup` (bash, run before, outside the chroot, with $m the root).
 */
function onMachine(setup: string, script: string): { status: number | null; stdout: string; stderr: string } {
  const w = tmpdir("machine-");
  try {
    fs.writeFileSync(path.join(w, "script.sh"), script);
    return run("unshare", ["--user", "--map-root-user", "--mount", "--pid", "--fork", "bash", "-euo", "pipefail", "-c", [
      `w=${w}; m=$w/m`,
      "mkdir -p $m/usr $m/proc $m/tmp $m/dev $w/upper $w/work",
      "mount --rbind /dev $m/dev",
      "mkdir -p $m/etc && cp -a /etc/alternatives $m/etc/ # awk and friends are Debian alternatives",
      "mount -t overlay overlay -o lowerdir=/usr,upperdir=$w/upper,workdir=$w/work $m/usr",
      "for l in bin sbin lib lib64; do [[ -e /$l ]] && ln -s usr/$l $m/$l; done",
      "mount -t proc proc $m/proc",
      "cp $w/script.sh $m/tmp/script.sh",
      setup,
      "chroot $m /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin bash /tmp/script.sh",
    ].join("\n")]);
  } finally {
    fs.rmSync(w, { recursive: true, force: true });
  }
}

/** A Debian-like machine's own directories and a file of its owner's in one the cluster also uses. */
const BASELINE = [
  "mkdir -p $m/etc/systemd/system $m/etc/sysctl.d $m/etc/modules-load.d $m/etc/cni $m/var/lib $m/var/log $m/var/cache $m/opt/tools $m/root",
  "echo 'the owner kept this' > $m/opt/tools/keep",
  "echo '# CNI of something else' > $m/etc/cni/README",
  "printf 'ID=debian\\nVERSION_ID=12\\n' > $m/etc/os-release",
].join("\n");
/** The machine's tree, every entry but /usr, /proc, /dev and /tmp, with each file's content. */
const TREE = "find / -xdev \\( -path /usr -o -path /proc -o -path /tmp -o -path /dev \\) -prune -o -printf '%y %p\\n' | sort; find /etc /var /opt -type f -exec sh -c 'echo \"== $1\"; cat \"$1\"' _ {} \\;";

describe("the footprint on a stand-in machine (chroot, real find)", () => {
  /** k8s-2's steps, with wipeDataOnDestroy as given: the footprint's delete removes the data then. */
  const onK2 = (wipe: boolean) => hostSteps(planCluster(existing({ wipeDataOnDestroy: wipe }))).filter((s) => s.plan.node === "k8s-2");
  const footprintOf = (wipe: boolean) => onK2(wipe).find((s) => s.layer === "footprint")!.plan;
  const footprint = footprintOf(false);
  const others = onK2(false).filter((s) => s.layer !== "footprint").map((s) => s.plan);
  /** What the node's steps and services leave: every file and created path, a file in every service and data directory. */
  const cluster = (o: { userFile: boolean }) => [
    ...others.flatMap((s) => s.files.map((f) => `mkdir -p "$(dirname ${f.path})"; echo x > ${f.path}`)),
    // a created path is a file or a directory the files above went into
    ...others.flatMap((s) => (s.createdPaths ?? []).map((p) => `[[ -e ${p} ]] || { mkdir -p "$(dirname ${p})"; echo x > ${p}; }`)),
    // services make directories (their files are data, or go with the pods)
    ...others.flatMap((s) => (s.madeDirs ?? []).map((d) => `mkdir -p ${d}/sub`)),
    ...others.flatMap((s) => (s.dataDirs ?? []).map((d) => `mkdir -p ${d}/sub; echo data > ${d}/sub/state`)),
    ...(o.userFile ? ["echo 'mine' > /etc/kubernetes/my-notes"] : []),
  ];
  /** Each step's delete as far as files go (its rm lines), newest step first: the same with or without wipeDataOnDestroy (a replaced step runs it too). */
  const deletes = () => [...others].reverse().flatMap((s) => renderDeleteScript(s).split("\n").filter((l) => l.startsWith("rm -rf -- ")));
  const script = (o: { wipe: boolean; userFile?: boolean }) => [
    "set -euo pipefail",
    `before=$(${TREE})`,
    renderApplyScript(footprint, noMaterial),
    "first=$(cat " + FOOTPRINT_RECORD + ")",
    renderApplyScript(footprint, noMaterial),
    `[[ $(cat ${FOOTPRINT_RECORD}) == "$first" ]] || { echo 'a second run changed the record'; exit 1; }`,
    ...cluster({ userFile: !!o.userFile }),
    ...deletes(),
    renderDeleteScript(footprintOf(o.wipe)),
    `after=$(${TREE})`,
    'diff <(echo "$before") <(echo "$after") || true',
    "echo recorded:; echo \"$first\"",
  ].join("\n");

  it("scripts that shellcheck accepts", () => {
    for (const s of [renderApplyScript(footprint, noMaterial), renderDeleteScript(footprint), renderDeleteScript(footprintOf(true))]) expect(shellcheck(s).stdout).toBe("");
  });

  it("with wipeDataOnDestroy, leaves the machine exactly as it was: every directory the cluster made is gone, the machine's own and its owner's files stay", () => {
    const r = onMachine(BASELINE, script({ wipe: true }));
    expect(r.stderr).toBe("");
    expect(r.stdout.split("recorded:\n")[0]).toBe("");
    expect(r.status).toBe(0);
    const [diff, recorded] = r.stdout.split("recorded:\n");
    expect(diff).toBe("");
    // what it recorded: absent directories only (never /etc/cni, /var/lib or /opt, which the machine had)
    const made = recorded.trim().split("\n");
    expect(made.length).toBeGreaterThan(15);
    for (const d of ["/etc/kubernetes", "/var/lib/kubelet", "/opt/containerd", "/opt/cni", "/var/lib/k8s-lab", "/usr/libexec/kubernetes"]) expect(made).toContain(d);
    for (const d of ["/etc/cni", "/var/lib", "/opt", "/etc/systemd/system", "/usr/local/bin"]) expect(made).not.toContain(d);
  });

  it("without it, deletes no file: the data the steps keep stays with its directories, and so does a file of the owner's in a directory the cluster made", () => {
    const r = onMachine(BASELINE, script({ wipe: false, userFile: true }));
    expect(r.status).toBe(0);
    const diff = r.stdout.split("recorded:\n")[0].split("\n").filter((l) => l.startsWith(">"));
    const kept = diff.filter((l) => /^> f /.test(l)).map((l) => l.slice(4)).sort();
    expect(kept).toEqual(["/etc/kubernetes/my-notes", ...others.flatMap((s) => (s.dataDirs ?? []).map((d) => `${d}/sub/state`))].sort());
    // and nothing else than those files and the directories that hold them
    for (const l of diff.filter((x) => /^> d /.test(x))) expect(kept.some((f) => f.startsWith(l.slice(4) + "/"))).toBe(true);
  });
});

describe("the packages node prep installed, on a stand-in machine (chroot, a stand-in dpkg and apt)", () => {
  const footprintOf = (v: Record<string, unknown> = {}) => hostSteps(planCluster(existing(v))).find((s) => s.id === "footprint-k8s-2")!.plan;
  // a package database of name and how it came (manual or auto); apt-get installs with a
  // dependency, purges, and says what it would auto-remove: every auto package nothing
  // installed needs (nginx-common needs nginx-light; the machine's own orphan old-lib, nothing)
  const STAND_INS = [
    "mkdir -p $m/usr/local/sbin $m/var/lib/standin",
    "printf '%s\\n' 'conntrack manual' 'curl manual' 'old-lib auto' > $m/var/lib/standin/db",
    `cat > $m/usr/local/sbin/dpkg-query <<'EOF'
#!/bin/bash
[[ -e /tmp/dpkg-broken ]] && { echo "dpkg-query: error: database is locked" >&2; exit 2; }
awk '{print "ii  " $1}' /var/lib/standin/db
EOF`,
    `cat > $m/usr/local/sbin/apt-get <<'EOF'
#!/bin/bash
db=/var/lib/standin/db
case $1 in
  install) shift; for p in "$@"; do [[ $p == -* ]] && continue; echo "$p manual" >> $db; [[ $p == nginx-light ]] && echo "nginx-common auto" >> $db; done ;;
  purge) echo "apt-get $*" >> /tmp/calls; shift; for p in "$@"; do [[ $p == -* ]] && continue; grep -v "^$p " $db > $db.new || true; mv $db.new $db; done ;;
  -s) if ! grep -q '^nginx-light ' $db && grep -q '^nginx-common ' $db; then echo "Remv nginx-common [1.22.1-9]"; fi; if grep -q '^old-lib ' $db; then echo "Remv old-lib [1.0]"; fi ;;
esac
exit 0
EOF`,
    "chmod +x $m/usr/local/sbin/dpkg-query $m/usr/local/sbin/apt-get",
  ].join("\n");
  const db = "awk '{print $1}' /var/lib/standin/db | sort | tr '\\n' ' '";

  it("removes exactly the packages of node prep's that came after the first step, and the dependencies they brought; the machine's own stay", () => {
    const fp = footprintOf();
    const script = [
      "set -euo pipefail",
      renderApplyScript(fp, noMaterial),
      renderApplyScript(fp, noMaterial), // a second run keeps the first note
      // node prep installs what is missing (conntrack was there), then the owner installs htop
      "apt-get install -y -q socat nginx-light libnginx-mod-stream",
      "echo 'htop manual' >> /var/lib/standin/db",
      `echo "during: $(${db})"`,
      renderDeleteScript(fp),
      `echo "after: $(${db})"`,
      `[[ ! -e ${PACKAGES_BEFORE} ]] && echo "note gone"`,
      "cat /tmp/calls",
    ].join("\n");
    const r = onMachine(BASELINE + "\n" + STAND_INS, script);
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stdout.split("\n").filter((l) => l)).toEqual([
      "during: conntrack curl htop libnginx-mod-stream nginx-common nginx-light old-lib socat ",
      "after: conntrack curl htop old-lib ",
      "note gone",
      "apt-get purge -y -q libnginx-mod-stream nginx-light socat",
      "apt-get purge -y -q nginx-common",
    ]);
    expect(r.stderr).toContain("k8s-2: removed the packages node prep installed: libnginx-mod-stream nginx-light socat nginx-common");
  });

  it("a listing that failed is not kept as the note (it would count the machine's own packages as prep's): the next run takes it", () => {
    const apply = renderApplyScript(footprintOf(), noMaterial);
    const script = [
      "set -uo pipefail",
      `cat > /tmp/apply.sh <<'APPLY'\n${apply}\nAPPLY`,
      "touch /tmp/dpkg-broken",
      "if bash /tmp/apply.sh 2>/dev/null; then echo applied; else echo failed; fi",
      "rm /tmp/dpkg-broken",
      "bash /tmp/apply.sh && echo applied",
      `tr '\\n' ' ' < ${PACKAGES_BEFORE}; echo`,
    ].join("\n");
    const r = onMachine(BASELINE + "\n" + STAND_INS, script);
    expect({ status: r.status, out: r.stdout.trim().split("\n") }).toEqual({ status: 0, out: ["failed", "applied", "conntrack curl old-lib"] });
  });

  it("with nothing installed by node prep, removes nothing; with skipPackageInstall, the footprint does not look at packages at all", () => {
    const fp = footprintOf();
    const r = onMachine(BASELINE + "\n" + STAND_INS, ["set -euo pipefail", renderApplyScript(fp, noMaterial), renderDeleteScript(fp), `echo "after: $(${db})"`, "cat /tmp/calls 2>/dev/null || echo 'no apt call'"].join("\n"));
    expect({ status: r.status, out: r.stdout.trim().split("\n") }).toEqual({ status: 0, out: ["after: conntrack curl old-lib ", "no apt call"] });
    const skipped = footprintOf({ skipPackageInstall: true });
    for (const sc of [renderApplyScript(skipped, noMaterial), renderDeleteScript(skipped)]) expect(sc).not.toMatch(/packages-before|dpkg-query|apt-get/);
    for (const sc of [renderApplyScript(fp, noMaterial), renderDeleteScript(fp)]) expect(shellcheck(sc).stdout).toBe("");
  });
});

describe("the pod teardown on a stand-in machine (chroot, real mounts and umount)", () => {
  const c = existing();
  const teardown = hostSteps(planCluster(c)).find((s) => s.id === "pod-teardown-k8s-2")!.plan;
  const STAND_INS = [
    "mkdir -p $m/usr/local/sbin $m/usr/local/bin",
    // systemctl: containerd runs; crictl and kube-proxy log what they are asked
    "printf '#!/bin/bash\\necho \"systemctl $*\" >> /tmp/calls\\n' > $m/usr/local/sbin/systemctl",
    "printf '#!/bin/bash\\necho \"crictl $*\" >> /tmp/calls\\n' > $m/usr/local/bin/crictl",
    "printf '#!/bin/bash\\necho \"kube-proxy $*\" >> /tmp/calls\\n' > $m/usr/local/bin/kube-proxy",
    "chmod +x $m/usr/local/sbin/systemctl $m/usr/local/bin/crictl $m/usr/local/bin/kube-proxy",
    // a pod's volumes, mounted as the kubelet mounts them, one inside another; the bridge's address records
    "v=$m/var/lib/kubelet/pods/3f2a/volumes",
    "mkdir -p $v/kubernetes.io~projected/kube-api-access-x $v/kubernetes.io~secret/token $m/var/lib/cni/networks/k8s-lab",
    "mount -t tmpfs none $v/kubernetes.io~projected/kube-api-access-x; mount -t tmpfs none $v/kubernetes.io~secret/token",
    "mkdir -p $v/kubernetes.io~secret/token/inner; mount -t tmpfs none $v/kubernetes.io~secret/token/inner",
    "echo 10.244.1.1 > $m/var/lib/cni/networks/k8s-lab/last_reserved_ip.0",
  ].join("\n");

  it("stops the kubelet, removes every pod through the runtime, stops the pods' slices, unmounts every pod volume, clears kube-proxy's rules and the address records", () => {
    const r = onMachine(STAND_INS, [renderDeleteScript(teardown), "echo '== calls'; cat /tmp/calls", "echo '== mounts'; findmnt -rn -o TARGET | grep kubelet || true", "echo '== cni'; ls /var/lib/cni/networks"].join("\n"));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "== calls",
      "systemctl stop kubelet kube-proxy",
      "systemctl is-active -q containerd",
      "crictl --timeout 120s rmp --all --force",
      "systemctl stop kubepods.slice",
      "kube-proxy --cleanup",
      "== mounts",
      "== cni",
      "",
    ]);
  });

  it("on a machine whose runtime is gone already, still unmounts and clears (and fails on nothing)", () => {
    const r = onMachine(STAND_INS + "\nrm $m/usr/local/bin/crictl", [renderDeleteScript(teardown), "findmnt -rn -o TARGET | grep -c kubelet || true"].join("\n"));
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("0");
  });

  it("creates nothing and is a script shellcheck accepts", () => {
    expect(teardown.files).toEqual([]);
    expect(teardown.activate).toEqual([]);
    expect(shellcheck(renderDeleteScript(teardown)).stdout).toBe("");
  });
});
