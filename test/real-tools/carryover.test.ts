// The move of a lab made by an older version of this program (8d954ab: its artifacts step
// installed the container runtime and owned the whole CNI plugins directory), run for real
// in a directory standing for the node's root: the carryover step, the older artifacts
// step's stored delete, then this version's artifacts step over release files made here.
// The nodes not yet drained must keep the runtime they run (and the pod network's own CNI
// plugin); the new runtime waits for the containerd step.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ArtifactSpec, loadConfig } from "../../components/config";
import { renderApplyScript, renderDeleteScript, HostStepPlan } from "../../components/host/plan";
import { BINARIES, CARRYOVER_DIR, UPLOAD_DIR, planArtifacts, planCarryover } from "../../components/node-prep/artifacts";
import { stackConfig } from "../harness";
import { run, shellcheck, tmpdir } from "../tools";

const ROOTED = ["/usr/local/bin", "/opt/cni/bin", "/opt/k8s-lab", "/var/cache/k8s-lab", UPLOAD_DIR, "/var/lib/k8s-lab"];
const noMaterial = () => {
  throw new Error("no key material");
};

/** Every path the scripts touch, under `root`. */
const underRoot = (script: string, root: string) => ROOTED.reduce((s, p) => s.replaceAll(p, root + p), script);

const read = (root: string, p: string) => (fs.existsSync(root + p) ? fs.readFileSync(root + p, "utf8") : "(missing)");

function write(root: string, p: string, text: string) {
  fs.mkdirSync(path.dirname(root + p), { recursive: true });
  fs.writeFileSync(root + p, text, { mode: 0o755 });
}

/** Release files for every artifact of the lab, each binary's content naming it and its release; with their digests. */
function releaseFiles(dir: string, artifacts: ArtifactSpec[]): string[] {
  const sums: string[] = [];
  for (const a of artifacts) {
    const file = path.join(dir, a.fileName);
    if (a.format === "binary") {
      fs.writeFileSync(file, `${a.name} ${a.version}\n`);
    } else {
      const tree = tmpdir("release-");
      const inner =
        a.name === "etcd" ? ["etcd", "etcdctl", "etcdutl"].map((b) => `etcd-v${a.version}-linux-amd64/${b}`) : a.name === "cni-plugins" ? ["bridge", "loopback", "host-local"] : Object.keys(BINARIES[a.name]);
      for (const i of inner) write(tree, `/${i}`, `${a.name} ${a.version} ${path.basename(i)}\n`);
      const r = run("tar", ["-C", tree, "-czf", file, "."]);
      expect(r.status).toBe(0);
      fs.rmSync(tree, { recursive: true });
    }
    sums.push(`${a.fileName}=sha256:${createHash("sha256").update(fs.readFileSync(file)).digest("hex")}`);
  }
  return sums;
}

describe("a lab made by an older version: the runtime and the pod network's CNI plugin stay until the node's drain", () => {
  const runtime = ["containerd", "containerd-shim-runc-v2", "ctr", "runc"];

  /** The node as 8d954ab left it, then (optionally) the carryover, its artifacts step's delete and this version's artifacts step. */
  function move(withCarryover: boolean) {
    const root = tmpdir("node-root-");
    const files = tmpdir("release-files-");
    try {
      const probe = loadConfig(stackConfig("dev")).config!;
      const node = probe.nodes[0];
      const loaded = loadConfig({ ...stackConfig("dev"), artifactDir: files, artifactChecksums: releaseFiles(files, Object.values(probe.artifacts).filter((a) => a !== undefined)) });
      expect(loaded.errors ?? []).toEqual([]);
      const c = loaded.config!;
      for (const b of runtime) write(root, `/usr/local/bin/${b}`, `2.2.0 ${b}\n`);
      write(root, "/usr/local/bin/kubelet", "kubernetes 1.36.0 kubelet (old)\n");
      write(root, "/opt/cni/bin/bridge", "cni-plugins 1.8.0 bridge\n");
      write(root, "/opt/cni/bin/weave-net", "weave-net's plugin, copied by its DaemonSet\n");
      const steps: Array<[string, HostStepPlan]> = [];
      const sh = (script: string) => {
        const r = run("bash", ["-c", underRoot(script, root)]);
        expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: 0 });
        return r.stderr.replaceAll(root, "");
      };
      if (withCarryover) {
        const carry = planCarryover(node);
        steps.push(["carryover", carry]);
        sh(renderApplyScript(carry, noMaterial));
      }
      // 8d954ab's artifacts step's delete on a node with every role: its createdPaths were every
      // binary it installed in /usr/local/bin (the runtime's too), its unpacked releases and
      // cached files, and the whole CNI plugins directory
      sh(`set -euo pipefail\nrm -rf -- /usr/local/bin/* /opt/k8s-lab/* /var/cache/k8s-lab/* /opt/cni/bin`);
      fs.mkdirSync(root + UPLOAD_DIR, { recursive: true });
      for (const f of fs.readdirSync(files)) fs.copyFileSync(path.join(files, f), root + UPLOAD_DIR + "/" + f);
      const artifacts = planArtifacts(c, node);
      steps.push(["artifacts", artifacts]);
      const stderr = sh(renderApplyScript(artifacts, noMaterial));
      const after = Object.fromEntries([...runtime.map((b) => `/usr/local/bin/${b}`), "/usr/local/bin/kubelet", "/opt/cni/bin/bridge", "/opt/cni/bin/weave-net"].map((p) => [p, read(root, p)]));
      // this version's artifacts delete, as a later release change runs it
      sh(renderDeleteScript(artifacts));
      const afterDelete = Object.fromEntries(["/usr/local/bin/containerd-shim-runc-v2", "/usr/local/bin/kubelet", "/opt/cni/bin/bridge", "/opt/cni/bin/weave-net"].map((p) => [p, read(root, p)]));
      return { c, steps, stderr, after, afterDelete, carryoverLeft: fs.existsSync(root + CARRYOVER_DIR) };
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(files, { recursive: true, force: true });
    }
  }

  it("keeps the running runtime and weave-net's plugin across the older artifacts step's delete; installs the new kubelet and CNI plugins; drops the copies", () => {
    const m = move(true);
    const v = m.c.versions;
    expect(m.after).toEqual({
      // the running 2.2.0 runtime, put back; 2.3 only after the drain (the containerd step)
      "/usr/local/bin/containerd": "2.2.0 containerd\n",
      "/usr/local/bin/containerd-shim-runc-v2": "2.2.0 containerd-shim-runc-v2\n",
      "/usr/local/bin/ctr": "2.2.0 ctr\n",
      "/usr/local/bin/runc": "2.2.0 runc\n",
      "/usr/local/bin/kubelet": `kubernetes-server ${v.kubernetes} kubelet\n`,
      "/opt/cni/bin/bridge": `cni-plugins ${m.c.artifacts["cni-plugins"]!.version} bridge\n`,
      "/opt/cni/bin/weave-net": "weave-net's plugin, copied by its DaemonSet\n",
    });
    expect(m.stderr).toContain("put back /usr/local/bin/containerd-shim-runc-v2");
    expect(m.stderr).not.toContain("put back /opt/cni/bin/bridge");
    expect(m.carryoverLeft).toBe(false);
    // this version's delete takes what it installed and no more: the runtime is the containerd
    // step's, the pod network's plugin its DaemonSet's
    expect(m.afterDelete).toEqual({
      "/usr/local/bin/containerd-shim-runc-v2": "2.2.0 containerd-shim-runc-v2\n",
      "/usr/local/bin/kubelet": "(missing)",
      "/opt/cni/bin/bridge": "(missing)",
      "/opt/cni/bin/weave-net": "weave-net's plugin, copied by its DaemonSet\n",
    });
    for (const [, s] of m.steps) {
      expect(shellcheck(renderApplyScript(s, noMaterial))).toMatchObject({ status: 0 });
      expect(shellcheck(renderDeleteScript(s))).toMatchObject({ status: 0 });
    }
  });

  it("(without the carryover the nodes not yet drained would have no shim and no runc: the defect it prevents)", () => {
    const m = move(false);
    for (const b of runtime) expect(m.after[`/usr/local/bin/${b}`]).toBe("(missing)");
    expect(m.after["/opt/cni/bin/weave-net"]).toBe("(missing)");
  });
});
