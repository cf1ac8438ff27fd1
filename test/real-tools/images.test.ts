// Registry-less images: archives read on the Pulumi machine, preflight that names every
// image the cluster runs but no archive holds, and the node step that imports them.
import * as fs from "fs";
import * as path from "path";
import * as tar from "tar";
import { loadConfig, readImageArchives } from "../../components/config";
import { planImages } from "../../components/worker/images";
import { planOf, runProgram, stackConfig, waitsFor } from "../harness";
import { bashSyntax, run, shellcheck, tmpdir } from "../tools";
import { placeholderMaterial } from "../../components/render";
import { allHostSteps } from "../harness";
import { renderApplyScript, renderDeleteScript } from "../../components/host/plan";

const dev: Record<string, unknown> = { ...stackConfig("dev"), cni: "bridge", dashboard: false };

/** A docker-archive as `docker save` writes it (manifest.json + config + a layer). */
function dockerArchive(dir: string, file: string, tags: string[]): string {
  const src = tmpdir("img-");
  fs.writeFileSync(path.join(src, "manifest.json"), JSON.stringify([{ Config: "config.json", RepoTags: tags, Layers: ["layer.tar"] }]));
  fs.writeFileSync(path.join(src, "config.json"), JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
  fs.writeFileSync(path.join(src, "layer.tar"), Buffer.alloc(1024));
  tar.c({ file: path.join(dir, file), cwd: src, sync: true, portable: true }, ["manifest.json", "config.json", "layer.tar"]);
  fs.rmSync(src, { recursive: true, force: true });
  return path.join(dir, file);
}

describe("image archives", () => {
  let dir: string;
  beforeEach(() => {
    dir = tmpdir("archives-");
    dockerArchive(dir, "pause.tar", ["registry.k8s.io/pause:3.10.2"]);
    dockerArchive(dir, "coredns.tar", ["registry.k8s.io/coredns/coredns:v1.14.2"]);
    dockerArchive(dir, "busybox.tar", ["busybox:1.36"]);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads each archive's images (docker.io short names as containerd names them) and its digest", () => {
    const a = readImageArchives(dir);
    expect(a.map((x) => [x.file, x.images])).toEqual([
      ["busybox.tar", ["docker.io/library/busybox:1.36"]],
      ["coredns.tar", ["registry.k8s.io/coredns/coredns:v1.14.2"]],
      ["pause.tar", ["registry.k8s.io/pause:3.10.2"]],
    ]);
    const sha = run("sha256sum", [path.join(dir, "pause.tar")]).stdout.split(" ")[0];
    expect(a.find((x) => x.file === "pause.tar")!.digest).toBe(`sha256:${sha}`);
  });

  it("accepts a cluster whose every image is in an archive", () => {
    const r = loadConfig({ ...dev, imageArchiveDir: dir });
    expect(r.errors).toEqual([]);
    expect(r.config!.registry.archives).toHaveLength(3);
  });

  it("leaves out, with a warning, the archives that hold only images of addons the cluster does not run", () => {
    dockerArchive(dir, "flannel.tar", ["ghcr.io/flannel-io/flannel:v0.27.4"]); // another tag than the pin: still flannel's
    dockerArchive(dir, "flannel-cni-plugin.tar", ["ghcr.io/flannel-io/flannel-cni-plugin:v1.8.0-flannel1"]);
    dockerArchive(dir, "weave.tar", ["docker.io/rajchaudhuri/weave-kube:2.9.0", "docker.io/rajchaudhuri/weave-npc:2.9.0"]);
    dockerArchive(dir, "mixed.tar", ["docker.io/kubernetesui/dashboard:v2.7.0", "registry.k8s.io/e2e-test-images/agnhost:2.63.0"]);
    dockerArchive(dir, "agnhost.tar", ["registry.k8s.io/e2e-test-images/agnhost:2.63.0"]);
    const files = (r: ReturnType<typeof loadConfig>) => r.config!.registry.archives.map((a) => a.file);
    const bridge = loadConfig({ ...dev, imageArchiveDir: dir });
    expect(bridge.errors).toEqual([]);
    expect(files(bridge)).toEqual(["agnhost.tar", "busybox.tar", "coredns.tar", "mixed.tar", "pause.tar"]);
    expect(bridge.warnings.filter((w) => w.key === "imageArchiveDir").map((w) => w.message)).toEqual([
      "flannel-cni-plugin.tar, flannel.tar, weave.tar hold only images of addons this cluster does not run: not imported",
    ]);
    const flannel = loadConfig({ ...dev, cni: "flannel", imageArchiveDir: dir, imageOverrides: ["flannel=ghcr.io/flannel-io/flannel:v0.27.4"] });
    expect(flannel.errors).toEqual([]);
    expect(files(flannel)).toEqual(["agnhost.tar", "busybox.tar", "coredns.tar", "flannel-cni-plugin.tar", "flannel.tar", "mixed.tar", "pause.tar"]);
    const weave = loadConfig({ ...dev, cni: "weave", imageArchiveDir: dir });
    expect(files(weave)).toContain("weave.tar");
    expect(files(weave)).not.toContain("flannel.tar");
  });

  it("names every image the cluster runs that no archive holds and no mirror serves", () => {
    fs.rmSync(path.join(dir, "coredns.tar"));
    const r = loadConfig({ ...dev, imageArchiveDir: dir, dashboard: true });
    expect(r.errors.map((e) => `${e.key}: ${e.message}`)).toEqual([
      expect.stringMatching(/^imageArchiveDir: no archive in .* holds registry\.k8s\.io\/coredns\/coredns:v1\.14\.2, docker\.io\/kubernetesui\/dashboard:v2\.7\.0, docker\.io\/kubernetesui\/metrics-scraper:v1\.0\.8, and no registry mirror serves them$/),
    ]);
    const mirrored = loadConfig({ ...dev, imageArchiveDir: dir, registryMirrors: ["registry.k8s.io=https://m.lab/k8s"] });
    expect(mirrored.errors).toEqual([]);
  });

  it("refuses a directory with no archive, or a file that is not one, naming it", () => {
    const empty = tmpdir("empty-");
    expect(loadConfig({ ...dev, imageArchiveDir: empty }).errors[0].message).toMatch(/holds no \.tar archive/);
    fs.writeFileSync(path.join(dir, "broken.tar"), "not a tar");
    expect(loadConfig({ ...dev, imageArchiveDir: dir }).errors[0].message).toMatch(/broken\.tar has no manifest\.json/);
    expect(loadConfig({ ...dev, imageArchiveDir: path.join(dir, "nope") }).errors[0].key).toBe("imageArchiveDir");
  });

  it("imports on each worker, after containerd and before the kubelet, copying each archive once with its digest", async () => {
    const { rec, error } = await runProgram({ ...dev, imageArchiveDir: dir });
    expect(error).toBeUndefined();
    const steps = rec.ofType("command:remote:Command").map((r) => r.name).filter((n) => n.startsWith("images-"));
    expect(steps.sort()).toEqual(["images-k8s-1", "images-k8s-2", "images-k8s-3"]);
    const plan = planOf({ ...dev, imageArchiveDir: dir });
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      expect(waitsFor(plan, `images-${n}`)).toContain(`containerd-${n}`);
      expect(waitsFor(plan, `kubelet-${n}`)).toContain(`images-${n}`);
    }
    const copies = rec.ofType("command:remote:CopyToRemote").filter((cp) => cp.name.startsWith("images-k8s-1-"));
    expect(copies.map((cp) => path.basename(cp.inputs.remotePath)).sort()).toEqual(["busybox.tar", "coredns.tar", "pause.tar"]);
  });

  it("imports only archives whose images containerd lacks, and pins the sandbox image", () => {
    const c = loadConfig({ ...dev, imageArchiveDir: dir }).config!;
    const plan = planImages(c, c.nodes[0]);
    const script = plan.activate.join("\n");
    expect(shellcheck(["#!/usr/bin/env bash", script].join("\n")).stdout).toBe("");
    // run the import part with a stub ctr that already has pause
    const bin = tmpdir("ctr-");
    const calls = path.join(bin, "calls");
    fs.writeFileSync(path.join(bin, "ctr"), `#!/bin/bash\necho "$*" >> ${calls}\nif [[ "$*" == *"images ls -q"* ]]; then echo registry.k8s.io/pause:3.10.2; fi\n`, { mode: 0o755 });
    const importPart = plan.activate.slice(plan.activate.findIndex((l) => l.startsWith("present="))).join("\n").split("/usr/local/bin/ctr").join(path.join(bin, "ctr"));
    const r = run("bash", ["-c", `set -euo pipefail\n${importPart}`]);
    expect(r.stderr).toBe("");
    const lines = fs.readFileSync(calls, "utf8").trim().split("\n");
    expect(lines.filter((l) => l.includes("images import")).map((l) => path.basename(l.split(" ").pop()!)).sort()).toEqual(["busybox.tar", "coredns.tar"]);
    expect(lines).toContain("-n k8s.io images label registry.k8s.io/pause:3.10.2 io.cri-containerd.pinned=pinned");
    expect(plan.deactivate.join("\n")).toMatch(/images rm .*registry\.k8s\.io\/pause:3\.10\.2/);
  });
});

describe("scripts of the registry-less, air-gapped, bridge variant", () => {
  it("pass bash -n and shellcheck, every one", () => {
    const images = tmpdir("archives-");
    const artifacts = tmpdir("artifacts-");
    try {
      dockerArchive(images, "pause.tar", ["registry.k8s.io/pause:3.10.2"]);
      dockerArchive(images, "coredns.tar", ["registry.k8s.io/coredns/coredns:v1.14.2"]);
      const base = loadConfig(dev).config!;
      for (const a of Object.values(base.artifacts)) fs.writeFileSync(path.join(artifacts, a!.fileName), "x");
      const r = loadConfig({ ...dev, imageArchiveDir: images, artifactDir: artifacts });
      expect(r.errors).toEqual([]);
      const steps = allHostSteps(r.config!);
      expect(steps.filter((s) => s.layer === "images" || s.layer === "pod-network")).toHaveLength(6);
      for (const s of steps) {
        for (const script of [renderApplyScript(s, placeholderMaterial), renderDeleteScript(s)]) {
          expect({ step: `${s.layer}-${s.node}`, ...bashSyntax(script) }).toMatchObject({ status: 0 });
          expect({ step: `${s.layer}-${s.node}`, out: shellcheck(script).stdout }).toEqual({ step: `${s.layer}-${s.node}`, out: "" });
        }
      }
    } finally {
      fs.rmSync(images, { recursive: true, force: true });
      fs.rmSync(artifacts, { recursive: true, force: true });
    }
  });
});
