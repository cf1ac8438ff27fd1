// The render command: a deterministic tree from the same plans the components ship, with
// every node's files, the runbook and the numbers; the real tools run over the tree.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { loadConfig } from "../../components/config";
import { RENDER_MARKER, planDiagram, planNumbers, renderTree, writeTree } from "../../components/render";
import { planCluster } from "../../components/cluster/plan";
import { runProgram, stackConfig, ROOT } from "../harness";
import { run, systemdVerify, tmpdir } from "../tools";

const dev = stackConfig("dev");
const spawnIn = (cwd: string, script: string) => {
  const r = spawnSync("bash", ["-c", script], { cwd, encoding: "utf8", timeout: 20000 });
  return { status: r.status, stderr: r.stderr };
};
const cfg = (v: Record<string, unknown> = {}) => loadConfig({ ...dev, ...v }).config!;
const workers = (n: number) => Array.from({ length: n }, (_, i) => `name=node-${i + 1} ip=192.168.253.${20 + i} roles=${i < 3 ? "etcd,control-plane,worker" : "worker"}`);

describe("render tree", () => {
  it("is byte-identical for the same config", () => {
    const [a, b] = [renderTree(cfg()), renderTree(cfg())];
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [k, v] of a) expect(b.get(k)).toBe(v);
    expect(a.size).toBeGreaterThan(150);
  });

  it("holds every node's units, configs, kubeconfigs and certificates at their paths on the node", () => {
    const t = renderTree(cfg());
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      for (const p of [
        "/etc/systemd/system/etcd.service",
        "/etc/etcd/etcd.conf.yml",
        "/etc/systemd/system/kube-apiserver.service",
        "/etc/kubernetes/pki/apiserver.crt",
        "/etc/kubernetes/pki/apiserver.key",
        "/etc/kubernetes/controller-manager.conf",
        "/etc/kube-nginx/kube-nginx.conf",
        "/etc/containerd/config.toml",
        "/var/lib/kubelet/config.yaml",
        "/etc/kubernetes/kubelet.conf",
        "/var/lib/kube-proxy/config.yaml",
        "/etc/sysctl.d/90-k8s-lab.conf",
      ]) expect({ n, p, present: t.has(`nodes/${n}${p}`) }).toEqual({ n, p, present: true });
      expect(t.get(`nodes/${n}/etc/kubernetes/pki/apiserver.key`)).toContain("K8S-LAB PLACEHOLDER");
      expect(t.has(`libvirt/${n}/domain.xml`)).toBe(true);
      expect(t.has(`libvirt/${n}/user-data`)).toBe(true);
    }
    expect([...t.keys()].filter((k) => k.startsWith("addons/"))).toEqual(["addons/01-rbac.yaml", "addons/02-cni.yaml", "addons/03-coredns.yaml", "addons/04-dashboard.yaml"]);
    const runbook = t.get("RUNBOOK.md")!;
    for (const h of ["prep — all nodes in parallel", "etcd — one node at a time", "control-plane — one node at a time", "kubelet — control-plane nodes one at a time", "Addons through the Kubernetes API"]) expect(runbook).toContain(h);
    const heading = (layer: string) => runbook.search(new RegExp(`^## \\d+\\. ${layer}( —|$)`, "m"));
    const order = ["prep", "artifacts", "etcd", "etcd-health", "control-plane", "kubelet", "kube-proxy", "nodes-registered"].map(heading);
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("orders every unit After= what it Wants= or Requires=, and repeats no directive", () => {
    const t = renderTree(cfg({ kubeProxyMode: "nftables" }));
    const units = [...t].filter(([k]) => k.startsWith("nodes/") && k.endsWith(".service"));
    expect(units.length).toBeGreaterThanOrEqual(3 * 8);
    for (const [file, text] of units) {
      const lines = text.split("\n").filter((l) => /^\w+=/.test(l));
      const values = (key: string) => lines.filter((l) => l.startsWith(`${key}=`)).flatMap((l) => l.slice(key.length + 1).split(/\s+/));
      for (const pulled of [...values("Wants"), ...values("Requires")]) expect({ file, pulled, after: values("After").includes(pulled) }).toEqual({ file, pulled, after: true });
      const pairs = lines.filter((l) => /^(After|Before|Wants|Requires)=/.test(l));
      expect({ file, repeated: pairs.filter((l, i) => pairs.indexOf(l) !== i) }).toEqual({ file, repeated: [] });
    }
  });

  it("says in RUNBOOK.md what day two does, in the plan's order: a node's removal, etcd's quorum, an upgrade", () => {
    const runbook = renderTree(cfg()).get("RUNBOOK.md")!;
    const dayTwo = runbook.slice(runbook.indexOf("## Day two"), runbook.indexOf("## Restore etcd"));
    const removal = /### Remove k8s-3\n\n.*?\((\d+) resources\): (.*)\./.exec(dayTwo)!;
    const order = removal[2].split(" → ").map((x) => x.replaceAll("`", ""));
    expect(order.length).toBe(Number(removal[1]));
    // what depends on a step goes before it: the drain before the kubelet, the member's removal before its etcd, the VM last
    const before = (a: string, b: string) => expect({ a, b, ok: order.indexOf(a) >= 0 && order.indexOf(a) < order.indexOf(b) }).toEqual({ a, b, ok: true });
    before("node-k8s-3", "kubelet-k8s-3");
    before("etcd-membership-k8s-3", "etcd-k8s-3");
    before("kubelet-k8s-3", "containerd-k8s-3");
    before("prep-k8s-3", "domain-k8s-3");
    const adding = /### Add a node \(here: k8s-3, as if it were new\)\n\n.*?\((\d+); independent ones together\): (.*)\./.exec(dayTwo)!;
    const creates = adding[2].split(" → ").map((x) => x.replaceAll("`", ""));
    expect(creates.length).toBe(Number(adding[1]));
    expect([...creates].sort()).toEqual([...order].sort());
    const createdBefore = (a: string, b: string) => expect({ a, b, ok: creates.indexOf(a) >= 0 && creates.indexOf(a) < creates.indexOf(b) }).toEqual({ a, b, ok: true });
    createdBefore("domain-k8s-3", "ready-k8s-3");
    createdBefore("etcd-k8s-3", "etcd-membership-k8s-3");
    createdBefore("kubelet-k8s-3", "node-k8s-3");
    expect(dayTwo).toContain("This cluster has 3 etcd members; a quorum is 2.");
    expect(dayTwo).toContain("`control-plane-k8s-1` → `control-plane-k8s-2` → `control-plane-k8s-3`");
    expect(dayTwo).toContain("one node at a time (k8s-1, k8s-2, k8s-3)");
  });

  it("shows a step that reads the same on several nodes once, with a table that fills in each node's values — and those are its real scripts", () => {
    for (const c of [cfg(), cfg({ nodes: workers(5), cni: "flannel" })]) {
      const t = renderTree(c);
      const runbook = t.get("RUNBOOK.md")!;
      const tables = [...runbook.matchAll(/```bash\n([\s\S]*?)\n```/g)].map((m) => ({ at: m.index!, script: m[1] }));
      let filled = 0;
      for (const m of runbook.matchAll(/^\| `<node>` \| `<node-ip>` \|.*\n\|.*\n((?:\|.*\n)+)/gm)) {
        const block = tables.find((b) => b.at > m.index!)!; // the script under the table
        for (const row of m[1].trim().split("\n")) {
          const cells = row.split("|").map((x) => x.trim()).filter(Boolean);
          const [name, ip] = cells;
          const script = cells.find((x) => x.endsWith(".apply.sh`"))!.replaceAll("`", "");
          const own = block.script.replaceAll("<node-ip>", ip).replaceAll("<node>", name);
          expect({ script, inScript: t.get(script)!.includes(own) }).toEqual({ script, inScript: true });
          filled++;
        }
      }
      // every step of every node is either in a table row or a section of its own
      const steps = [...t.keys()].filter((k) => k.startsWith("steps/") && k.endsWith(".apply.sh")).length;
      const single = (runbook.match(/^Script: `steps\//gm) ?? []).length;
      expect(filled + single).toBe(steps);
      expect(filled).toBeGreaterThan(steps / 2);
    }
    const runbook = renderTree(cfg()).get("RUNBOOK.md")!;
    // on three alike nodes, every layer of the first build is one section
    const sections = runbook.slice(runbook.indexOf("## 2. "), runbook.indexOf("Addons through the Kubernetes API")).split(/^## \d+\. /m).filter(Boolean);
    expect(sections.length).toBeGreaterThan(12);
    for (const sec of sections) expect({ layer: sec.split("\n")[0], steps: (sec.match(/^### /gm) ?? []).length }).toEqual({ layer: sec.split("\n")[0], steps: 1 });
    // the same script is not repeated per node
    expect(runbook.split("systemctl start --no-block etcd").length - 1).toBe(1);
    // the upgrade's drain and uncordon are day two, after the first build's sequence
    const firstBuild = runbook.slice(0, runbook.indexOf("## One layer at a time"));
    expect(firstBuild).not.toMatch(/^#+ .*(upgrade-(drain|uncordon)|drain <node> before)/m);
    expect(runbook.slice(runbook.indexOf("## Day two: the upgrade's drain and uncordon"))).toMatch(/### upgrade-drain[\s\S]*### upgrade-uncordon/);
  });

  it("draws the plan for the runbook as a flowchart Mermaid's own parser accepts: every host step, every edge between them, the critical path in red", () => {
    for (const c of [cfg(), cfg({ nodes: workers(5), cni: "flannel", localProxy: "haproxy" })]) {
      const plan = planCluster(c);
      const numbers = planNumbers(plan);
      const diagram = planDiagram(plan, numbers).join("\n");
      expect(renderTree(c).get("RUNBOOK.md")).toContain("```mermaid\n" + diagram + "\n```");
      const judged = run("node", [path.join(ROOT, "test/mermaid-parse.mjs")], diagram);
      expect(judged.stderr).toBe("");
      expect(JSON.parse(judged.stdout)).toEqual({ diagramType: "flowchart-v2" });
      const hostIds = plan.steps.filter((s) => s.kind === "host").map((s) => s.id);
      const boxes = [...diagram.matchAll(/^ {4}s_\w+\["([^"]+)"\]$/gm)].map((m) => m[1].split(" ")[0]);
      expect(boxes.sort()).toEqual([...hostIds, "api-reachable"].sort());
      const arrows = diagram.split("\n").filter((l) => / (-->|-\.->) /.test(l));
      expect(arrows.length).toBe(plan.edges.filter((e) => boxes.includes(e.before) && boxes.includes(e.after)).length);
      expect(arrows.length).toBeGreaterThan(hostIds.length);
      const red = /^ {2}linkStyle ([\d,]+) /m.exec(diagram)![1].split(",");
      expect(red.length).toBe(numbers.criticalPath.length - 1);
      // and the judge judges: a subgraph left open is refused
      expect(run("node", [path.join(ROOT, "test/mermaid-parse.mjs")], diagram.replace(/\n {2}end\n/, "\n")).status).toBe(1);
    }
  });

  it("renders libvirt scripts that say what they need: the URI, and for ready-<node>.sh the key on standard input", () => {
    const dir = tmpdir("render-scripts-");
    try {
      writeTree(dir, renderTree(cfg()));
      const scripts = fs.readdirSync(path.join(dir, "libvirt/scripts"));
      expect(scripts.length).toBeGreaterThan(20);
      for (const f of scripts) {
        const again = spawnIn(dir, `env -u LIBVIRT_URI bash libvirt/scripts/${f} </dev/null`);
        expect({ f, status: again.status === 0, names: again.stderr.includes("set LIBVIRT_URI") }).toEqual({ f, status: false, names: true });
      }
      const ready = spawnIn(dir, "LIBVIRT_URI=qemu:///system bash libvirt/scripts/ready-k8s-2.sh </dev/null");
      expect(ready.status).toBe(2);
      expect(ready.stderr).toContain("no SSH private key on standard input (run: LIBVIRT_URI=qemu:///system bash libvirt/scripts/ready-k8s-2.sh < lab-key)");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("changes only that node's domain XML when one node's memory changes", () => {
    const a = renderTree(cfg());
    const nodes = (dev.nodes as string[]).map((n) => (n.startsWith("name=k8s-2") ? `${n} memoryMiB=4096` : n));
    const b = renderTree(cfg({ nodes }));
    const changed = [...b.keys()].filter((k) => a.get(k) !== b.get(k));
    // the XML itself, and the create script that carries it
    expect(changed.sort()).toEqual(["libvirt/k8s-2/domain.xml", "libvirt/scripts/11-domain-k8s-lab-k8s-2.create.sh"]);
    expect(b.get("libvirt/k8s-2/domain.xml")).toContain('<memory unit="MiB">4096</memory>');
  });
});

describe("npm run render", () => {
  let out: string;
  beforeAll(() => {
    out = tmpdir("render-");
    execFileSync("node", ["--require", "tsx/cjs", path.join(ROOT, "tools/render.ts"), "--stack", "dev", "--out", out, "--test-pki"], { cwd: ROOT, stdio: "pipe" });
  }, 120000);
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it("writes the numbers: resources by type, host steps and SSH sessions per node, the critical path", () => {
    const s = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
    expect(s.stepsByKind).toEqual({ host: 45, "kubernetes-object": expect.any(Number), "kubernetes-provider": 1, libvirt: 15, "local-gate": 1, ready: 3 });
    // k8s-1 also runs, for each node, its membership and upgrade drain and uncordon steps, and the cluster gates
    // its own 11 on each; on k8s-1 every node's membership (3), admin-access, nodes-registered and the etcd gate; each control-plane node the upgrade drain and uncordon of one node
    expect(s.hostStepsPerNode).toEqual({ "k8s-1": 11 + 3 + 3 + 2, "k8s-2": 11 + 2, "k8s-3": 11 + 2 });
    expect(s.sshSessionsPerNode).toEqual({ "k8s-1": 19, "k8s-2": 13, "k8s-3": 13 });
    expect(s.criticalPath[0]).toBe("prep-k8s-1");
    // it ends where nothing waits any more: a node's membership (after its kube-proxy) or the registration gate
    expect(s.criticalPath[s.criticalPath.length - 1]).toMatch(/^(nodes-registered|node-k8s-\d)$/);
    expect(s.criticalPath).toEqual(expect.arrayContaining(["etcd-health"]));
  });

  it("with --test-pki, writes real certificates that verify with openssl", () => {
    const pki = path.join(out, "nodes/k8s-1/etc/kubernetes/pki");
    expect(run("openssl", ["verify", "-CAfile", `${pki}/ca.crt`, `${pki}/apiserver.crt`]).stdout).toContain("OK");
    expect(run("openssl", ["verify", "-CAfile", `${pki}/etcd/ca.crt`, `${pki}/etcd/server.crt`]).stdout).toContain("OK");
    const pub = (f: string, cmd: string[]) => run("openssl", [...cmd, "-in", f]).stdout;
    expect(pub(`${pki}/apiserver.key`, ["pkey", "-pubout"])).toBe(pub(`${pki}/apiserver.crt`, ["x509", "-noout", "-pubkey"]));
  });

  it("passes systemd-analyze, nginx -t, virt-xml-validate and cloud-init schema over the tree", () => {
    const units: Record<string, string> = {};
    const unitDir = path.join(out, "nodes/k8s-1/etc/systemd/system");
    for (const f of fs.readdirSync(unitDir, { recursive: true }) as string[]) {
      if (fs.statSync(path.join(unitDir, f)).isFile()) units[f] = fs.readFileSync(path.join(unitDir, f), "utf8");
    }
    expect(Object.keys(units).length).toBeGreaterThanOrEqual(7);
    const bins = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "containerd"].map((b) => `/usr/local/bin/${b}`);
    expect(systemdVerify(units, [...bins, "/usr/sbin/nginx", "/sbin/modprobe", "/usr/local/lib/k8s-lab/etcd-snapshot.sh"]).stderr).toBe("");

    const conf = fs.readFileSync(path.join(out, "nodes/k8s-2/etc/kube-nginx/kube-nginx.conf"), "utf8").replace("/etc/kube-nginx/modules/ngx_stream_module.so", "/usr/lib/nginx/modules/ngx_stream_module.so");
    fs.writeFileSync(path.join(out, "nginx-check.conf"), conf);
    expect(run("nginx", ["-t", "-q", "-e", "stderr", "-c", path.join(out, "nginx-check.conf")]).status).toBe(0);

    for (const [f, kind] of [["libvirt/network.xml", "network"], ["libvirt/pool.xml", "storagepool"], ["libvirt/k8s-3/domain.xml", "domain"]]) {
      expect(run("virt-xml-validate", [path.join(out, f), kind]).status).toBe(0);
    }
    const ud = run("cloud-init", ["schema", "--config-file", path.join(out, "libvirt/k8s-1/user-data")]);
    expect({ status: ud.status, err: ud.stderr.trim() }).toEqual({ status: 0, err: "" });
    expect(fs.readFileSync(path.join(out, "libvirt/k8s-1/user-data"), "utf8")).toMatch(/ssh-ed25519 AAAA/);
  });
});

describe("plan numbers (the benchmark's measures)", () => {
  it("agree with what the program registers, keep the critical path constant as workers are added, and SSH sessions per node at 14 or fewer besides the per-node steps each runs", async () => {
    const paths: number[] = [];
    for (const n of [3, 10, 25]) {
      const c = cfg({ nodes: workers(n) });
      const numbers = planNumbers(planCluster(c));
      const { rec, error } = await runProgram({ ...dev, nodes: workers(n) });
      expect(error).toBeUndefined();
      expect(rec.countByType()["command:remote:Command"]).toBe(Object.values(numbers.hostStepsPerNode).reduce((a, b) => a + b, 0));
      const byIp = Object.fromEntries(Object.entries(numbers.sshSessionsPerNode).map(([node, k]) => [c.nodes.find((x) => x.name === node)!.ip, k]));
      expect(rec.sshSessionsPerHost()).toEqual(byIp);
      // every node within 14 sessions (an etcd member has its membership step too) besides the
      // per-node steps it runs: the first control-plane node one per node (membership), each of
      // the three control-plane nodes two per node whose upgrade steps it runs (round-robin)
      const perNode = (node: string) => (node === "node-1" ? n : 0) + (["node-1", "node-2", "node-3"].includes(node) ? 2 * Math.ceil(n / 3) : 0);
      for (const [node, k] of Object.entries(numbers.sshSessionsPerNode)) expect({ node, ok: k - perNode(node) <= 14 }).toEqual({ node, ok: true });
      // and the upgrade steps are spread: no control-plane node runs more than its share
      expect(Math.max(...["node-1", "node-2", "node-3"].map((x) => numbers.sshSessionsPerNode[x])) - numbers.sshSessionsPerNode["node-1"]).toBeLessThanOrEqual(0);
      expect(numbers.sshSessionsPerNode["node-2"]).toBeGreaterThan(2 * Math.floor(n / 3));
      paths.push(numbers.criticalPath.length);
    }
    expect(paths[0]).toBeGreaterThan(5);
    expect(new Set(paths).size).toBe(1);
  }, 120000);
});

describe("render --out", () => {
  it("refuses a non-empty directory that is not a previous render, and deletes nothing it did not write", () => {
    const dir = tmpdir("out-");
    try {
      fs.writeFileSync(path.join(dir, "mine.txt"), "keep me");
      const tree = new Map([["a/b.txt", "1"], ["c.txt", "2"]]);
      expect(() => writeTree(dir, tree)).toThrow(/not empty and is not a previous render/);
      expect(fs.readFileSync(path.join(dir, "mine.txt"), "utf8")).toBe("keep me");
      fs.rmSync(path.join(dir, "mine.txt"));
      writeTree(dir, tree);
      expect(fs.existsSync(path.join(dir, RENDER_MARKER))).toBe(true);
      // a file added after the render survives the next render; the render's own files are replaced
      fs.writeFileSync(path.join(dir, "notes.md"), "mine");
      writeTree(dir, new Map([["c.txt", "3"]]));
      expect(fs.existsSync(path.join(dir, "a/b.txt"))).toBe(false);
      expect(fs.existsSync(path.join(dir, "a"))).toBe(false);
      expect(fs.readFileSync(path.join(dir, "c.txt"), "utf8")).toBe("3");
      expect(fs.readFileSync(path.join(dir, "notes.md"), "utf8")).toBe("mine");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves the checkout alone: npm run render -- --out . fails with the reason", () => {
    const r = run("node", ["--require", "tsx/cjs", path.join(ROOT, "tools/render.ts"), "--stack", "dev", "--out", ROOT]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is not empty and is not a previous render/);
    expect(fs.existsSync(path.join(ROOT, "package.json"))).toBe(true);
  });
});

/** Runs `f` with a scratch stack root and output directory (removed after) and console.error's lines (console.log silenced). */
async function inScratch(f: (root: string, out: string, errors: string[]) => Promise<void>): Promise<void> {
  const root = tmpdir("render-root-");
  const out = tmpdir("render-out-");
  const errors: string[] = [];
  const spy = jest.spyOn(console, "error").mockImplementation((m: unknown) => void errors.push(String(m)));
  const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    await f(root, out, errors);
  } finally {
    spy.mockRestore();
    log.mockRestore();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  }
}

describe("the render command's input", () => {
  it("refuses a flag it does not know, naming it", () => {
    const r = run("node", ["--require", "tsx/cjs", path.join(ROOT, "tools/render.ts"), "--stack", "dev", "--out", "/nonexistent/never", "--test-pk"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--test-pk'/);
    expect(r.stderr).toMatch(/^usage: npm run render/m);
  });

  it("reads a secret key that is set as set (encrypted), and refuses one stored in plain text without printing it", () =>
    inScratch(async (root, out, errors) => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";
      const dev = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");
      const own = `${dev}  k8s-lab:sshPublicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnTestKeyOnlyForTheRenderTest own\n`;
      fs.writeFileSync(path.join(root, "Pulumi.own.yaml"), `${own}  k8s-lab:sshPrivateKey:\n    secure: v1:AAAAAAAAAAAAAAAA:encrypted-by-pulumi\n`);
      const { render } = await import("../../tools/render");
      expect(await render(["--stack", "own", "--out", out], root)).toBe(0);
      expect(errors).toEqual([]);
      fs.writeFileSync(path.join(root, "Pulumi.plain.yaml"), `${own}  k8s-lab:sshPrivateKey: ${JSON.stringify(key)}\n`);
      const refused = render(["--stack", "plain", "--out", out], root);
      await expect(refused).rejects.toThrow(`${path.join(root, "Pulumi.plain.yaml")}: sshPrivateKey is stored in plain text; fix: pulumi config set --stack plain --secret sshPrivateKey < FILE`);
      await refused.catch((e: Error) => expect(e.message).not.toContain("not-a-real-key"));
    }));

  it("prints the preflight's warnings, and names a stack file that is not YAML", () =>
    inScratch(async (root, out, errors) => {
      const text = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8").replace(/^\s+- name=k8s-3 .*\n/m, "");
      expect(text).not.toContain("name=k8s-3");
      fs.writeFileSync(path.join(root, "Pulumi.even.yaml"), text);
      const { render } = await import("../../tools/render");
      expect(await render(["--stack", "even", "--out", out], root)).toBe(0);
      expect(errors).toEqual(["warning: nodes: 2 etcd members tolerate 0 failed members, no more than 1 do: the extra member is one more machine that can fail, and the quorum grows to 2; fix: use 1 or 3 etcd members"]);
      fs.writeFileSync(path.join(root, "Pulumi.broken.yaml"), "config:\n  k8s-lab:nodes: [unclosed\n");
      await expect(render(["--stack", "broken", "--out", out], root)).rejects.toThrow(`${path.join(root, "Pulumi.broken.yaml")} is not valid YAML`);
    }));
});
