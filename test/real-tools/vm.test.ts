// VM layer: the graph under mocks, and the real validators over every XML, user-data and
// script it produces.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { loadConfig } from "../../components/config";
import { LibvirtObjectPlan, domainXml, machinesProbes, networkXml, parseMachinesProbe, planBaseVolume, planCloudInitDisk, planDomain, planNetwork, planNodeAddress, planNodeVolume, planPool, poolXml, readinessScript, userData } from "../../components/vm/plan";
import { planOf, runProgram, stackConfig, waitsFor } from "../harness";
import { Recorder } from "../../tools/engine";
import { bashSyntax, run, shellcheck, tmpdir } from "../tools";

const dev = stackConfig("dev");
const LOCAL = "command:local:Command";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0ZXN0a2V5Zm9ydGhlbGFib25seW5vdHJlYWwxMjM0 k8s-lab";
// the VM layer's local commands: all but the addons' API gate (addons.test.ts)
const vmLocal = (rec: Recorder) => rec.ofType(LOCAL).filter((r) => r.name !== "api-reachable");
const depNames = (name: string): string[] => waitsFor(planOf(dev), name).sort();

describe("VM graph under mocks", () => {
  let rec: Recorder;
  beforeAll(async () => {
    const r = await runProgram(dev);
    expect(r.error).toBeUndefined();
    rec = r.rec;
  });

  it("has one network and pool, one base image, and one network entry, overlay, seed and domain per node", () => {
    const names = vmLocal(rec).map((r) => r.name).sort();
    const expected = ["network-k8s-lab", "pool-k8s-lab", "volume-base"];
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) expected.push(`address-${n}`, `volume-${n}`, `cloudinit-${n}`, `domain-${n}`, `ready-${n}`);
    expect(names).toEqual(expected.sort());
  });

  it("orders network → volumes → domain → readiness → host steps", () => {
    expect(depNames("volume-base")).toEqual(["pool-k8s-lab"]);
    expect(depNames("volume-k8s-1")).toEqual(["volume-base"]);
    expect(depNames("address-k8s-1")).toEqual(["network-k8s-lab"]);
    expect(depNames("domain-k8s-1")).toEqual(["address-k8s-1", "cloudinit-k8s-1", "network-k8s-lab", "volume-k8s-1"]);
    expect(depNames("ready-k8s-1")).toEqual(["domain-k8s-1"]);
    expect(depNames("prep-k8s-1")).toEqual(["ready-k8s-1"]);
  });

  it("gives every libvirt object a delete, and replaces by deleting first", () => {
    for (const r of vmLocal(rec).filter((x) => !x.name.startsWith("ready-"))) {
      expect(r.inputs.delete).toMatch(/virsh/);
      // the script comes on stdin: a failure shows virsh's message, not 60 lines of script and XML
      expect(r.inputs.create).toBe("bash -s");
      expect(r.inputs.stdin).toMatch(/virsh/);
      expect(rec.options.get(`${LOCAL}::${r.name}`)!.deleteBeforeReplace).toBe(true);
      expect(r.inputs.environment).toEqual({ LIBVIRT_URI: "qemu:///system" });
    }
  });

  it("feeds the readiness check its key as a secret on stdin", () => {
    const r = rec.named("ready-k8s-1", LOCAL);
    expect(r.secretPaths).toContain("stdin");
    expect(r.inputs.create).not.toMatch(/PRIVATE KEY/);
  });

  it("puts the generated SSH public key into each node's user-data", () => {
    const seed = rec.named("cloudinit-k8s-2", LOCAL).inputs.stdin as string;
    const pub = rec.resources.find((r) => r.name === "k8s-lab-ssh")!.state.publicKeyOpenssh.trim();
    expect(seed).toContain(pub);
  });

  it("a memory change on one node replaces only that node's domain, and names the field", async () => {
    const nodes = (dev.nodes as string[]).map((n) => (n.startsWith("name=k8s-2") ? `${n} memoryMiB=4096` : n));
    const b = await runProgram({ ...dev, nodes });
    const triggers = (r: Recorder, name: string) => rec === r ? r.named(name, LOCAL).inputs.triggers : r.named(name, LOCAL).inputs.triggers;
    const changed = vmLocal(rec).map((r) => r.name).filter((n) => JSON.stringify(triggers(rec, n)) !== JSON.stringify(triggers(b.rec, n)));
    expect(changed).toEqual(["domain-k8s-2"]);
    expect(triggers(rec, "domain-k8s-2")[0].memoryMiB).toBe(2048);
    expect(triggers(b.rec, "domain-k8s-2")[0].memoryMiB).toBe(4096);
  });

  it("in existing mode makes no libvirt object, only the SSH readiness checks", async () => {
    const { rec: r } = await runProgram({ ...dev, hostMode: "existing" });
    expect(vmLocal(r).map((x) => x.name).sort()).toEqual(["ready-k8s-1", "ready-k8s-2", "ready-k8s-3"]);
    expect(r.named("ready-k8s-1", LOCAL).inputs.create).not.toContain("cloud-init");
  });
});

describe("validators", () => {
  const variants = {
    kvm: loadConfig(dev).config!,
    qemuWithProxy: loadConfig({ ...dev, domainType: "qemu", httpProxy: "http://proxy.lab:3128" }).config!,
    rhelAirGappedImage: loadConfig({ ...dev, baseImageFamily: "rhel", skipPackageInstall: true, httpProxy: "http://proxy.lab:3128", baseImagePath: undefined, baseImageUrl: "https://images.lab/rocky-9-20250101.qcow2", baseImageChecksum: `sha256:${"d".repeat(64)}` }).config!,
  };
  let dir: string;
  beforeAll(() => (dir = tmpdir("vm-")));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const validate = (kind: string, text: string) => {
    const f = path.join(dir, `${kind}.xml`);
    fs.writeFileSync(f, text);
    return run("virt-xml-validate", [f, kind]);
  };

  it.each(Object.entries(variants))("%s: network, pool and domain XML pass virt-xml-validate", (_, c) => {
    for (const [kind, text] of [["network", networkXml(c)], ["storagepool", poolXml(c)], ...c.nodes.map((n) => ["domain", domainXml(c, n)])]) {
      const r = validate(kind, text);
      expect({ kind, status: r.status, out: (r.stdout + r.stderr).trim() }).toEqual({ kind, status: 0, out: expect.stringMatching(/ validates$/) });
    }
    expect(validate("domain", domainXml(c, c.nodes[0]).replace("<vcpu", "<vcpus")).status).not.toBe(0); // the check can fail
  });

  it("gives every node its fixed MAC, IP and names in its own network entry and its domain; the network names no node", () => {
    const c = variants.kvm;
    const net = networkXml(c);
    for (const n of c.nodes) {
      expect(net).not.toContain(n.mac);
      expect(net).not.toContain(n.ip);
      const entry = planNodeAddress(c, n);
      expect(entry.triggers).toEqual({ dhcpHost: `<host mac="${n.mac}" name="${n.name}" ip="${n.ip}"/>`, dnsHost: `<host ip="${n.ip}"><hostname>${n.name}</hostname><hostname>${n.name}.k8s-lab.lab</hostname></host>` });
      expect(domainXml(c, n)).toContain(`<mac address="${n.mac}"/>`);
    }
    expect(net).toContain('<ip address="192.168.253.1" netmask="255.255.255.0">');
    // removed by its address alone: the apiserver name below is in several entries, and libvirt refuses a removal that matches several
    expect(planNodeAddress(c, c.nodes[0]).delete).toContain(`delete dns-host '<host ip="${c.nodes[0].ip}"/>'`);
    expect(planNodeAddress(c, c.nodes[0]).create).toContain(`delete dns-host '<host ip="${c.nodes[0].ip}"/>'`);
    expect(domainXml(c, c.nodes[0])).toContain('<cpu mode="host-passthrough" check="none"/>');
    expect(domainXml(variants.qemuWithProxy, c.nodes[0])).not.toContain("<cpu");
    expect(domainXml(variants.qemuWithProxy, c.nodes[0])).toContain('<domain type="qemu">');
  });

  it("gives apiserverEndpoint in the lab's domain every control-plane node's address, and no worker's", () => {
    const nodes = ["name=cp-1 ip=192.168.253.21 roles=etcd,control-plane", "name=cp-2 ip=192.168.253.22 roles=etcd,control-plane", "name=cp-3 ip=192.168.253.23 roles=etcd,control-plane", "name=w-1 ip=192.168.253.31 roles=worker"];
    const named = (endpoint: string | undefined) => loadConfig({ ...dev, nodes, ...(endpoint ? { apiserverEndpoint: endpoint } : {}) }).config!;
    const api = (cfg: ReturnType<typeof named>) => cfg.nodes.filter((n) => String(planNodeAddress(cfg, n).triggers.dnsHost).includes("<hostname>api.k8s-lab.lab</hostname>")).map((n) => n.name);
    expect(api(named("api.k8s-lab.lab"))).toEqual(["cp-1", "cp-2", "cp-3"]);
    expect(planNodeAddress(named("api.k8s-lab.lab"), named("api.k8s-lab.lab").nodes[1]).triggers.dnsHost).toBe('<host ip="192.168.253.22"><hostname>cp-2</hostname><hostname>cp-2.k8s-lab.lab</hostname><hostname>api.k8s-lab.lab</hostname></host>');
    // a name elsewhere is the user's DNS's; none: no node's entry changes (a running lab's entries stay)
    for (const other of ["api.example.org", "192.168.253.21", undefined]) {
      const cfg = named(other);
      expect(cfg.nodes.map((n) => planNodeAddress(cfg, n).triggers.dnsHost).join("")).not.toMatch(/<hostname>(api\.|192)/);
    }
    expect(planNodeAddress(named(undefined), named(undefined).nodes[0]).triggers).toEqual(planNodeAddress(named("api.example.org"), named("api.example.org").nodes[0]).triggers);
  });

  it.each(Object.entries(variants))("%s: user-data passes cloud-init schema", (_, c) => {
    for (const n of c.nodes) {
      const f = path.join(dir, `user-data-${n.name}`);
      fs.writeFileSync(f, userData(c, n, KEY));
      const r = run("cloud-init", ["schema", "--config-file", f]);
      expect({ node: n.name, status: r.status, out: r.stderr.trim() }).toEqual({ node: n.name, status: 0, out: "" });
    }
    const bad = path.join(dir, "user-data-bad");
    fs.writeFileSync(bad, userData(c, c.nodes[0], KEY).replace("ssh_pwauth: false", "ssh_pwauth: [1]"));
    expect(run("cloud-init", ["schema", "--config-file", bad]).status).not.toBe(0); // the check can fail
  });

  it("user-data turns swap off for good, loads the modules, sets sysctls and installs packages unless told not to", () => {
    const c = variants.kvm;
    const doc = YAML.parse(userData(c, c.nodes[0], KEY));
    expect(doc.hostname).toBe("k8s-1");
    expect(doc.runcmd).toEqual(expect.arrayContaining([["swapoff", "-a"], ["sed", "-ri", "/^[^#].*\\sswap\\s/s/^/#k8s-lab# /", "/etc/fstab"], ["modprobe", "br_netfilter"]]));
    expect(doc.users[0].ssh_authorized_keys).toEqual([KEY]);
    // its own name only: a seed that named the other nodes would change (and replace the VM) when a node is added
    expect(doc.write_files.find((f: { path: string }) => f.path === "/etc/hosts").content).toContain("192.168.253.140 k8s-1.k8s-lab.lab k8s-1");
    expect(doc.write_files.find((f: { path: string }) => f.path === "/etc/hosts").content).not.toContain("k8s-3");
    expect(doc.write_files.find((f: { path: string }) => f.path === "/etc/sysctl.d/90-k8s-lab.conf").content).toContain("net.bridge.bridge-nf-call-iptables = 1");
    expect(doc.packages).toEqual(expect.arrayContaining(["conntrack", "socat", "ipset", "libnginx-mod-stream"]));
    expect(YAML.parse(userData(variants.rhelAirGappedImage, c.nodes[0], KEY)).packages).toBeUndefined();
    expect(YAML.parse(userData(variants.qemuWithProxy, c.nodes[0], KEY)).apt).toEqual({ http_proxy: "http://proxy.lab:3128", https_proxy: "http://proxy.lab:3128" });
  });

  it.each(Object.entries(variants))("%s: every create, delete and readiness script passes bash -n and shellcheck", (_, c) => {
    const plans: LibvirtObjectPlan[] = [planNetwork(c), planPool(c), planBaseVolume(c), ...c.nodes.flatMap((n) => [planNodeVolume(c, n), planCloudInitDisk(c, n, KEY), planDomain(c, n)])];
    const scripts = [...plans.flatMap((p) => [p.create, p.delete]), ...c.nodes.map((n) => readinessScript(c, n, true))];
    expect(scripts).toHaveLength(3 * 2 + 9 * 2 + 3);
    for (const s of scripts) {
      expect(bashSyntax(s).status).toBe(0);
      expect(shellcheck("#!/usr/bin/env bash\n" + s).stdout).toBe("");
    }
  });

  it("names the node and its console log when a node never answers", () => {
    const c = variants.kvm;
    expect(readinessScript(c, c.nodes[0], true)).toContain("node k8s-1 (192.168.253.140) did not answer SSH within 900 s; its console log is /var/log/libvirt/qemu/k8s-lab-k8s-1-serial.log");
  });
});

describe("replacing a machine", () => {
  it("replaces a domain with its disk or seed, and re-runs every host step on a new machine", async () => {
    const { rec } = await runProgram(dev);
    const domain = rec.named("domain-k8s-2", LOCAL);
    expect(domain.inputs.triggers).toEqual(expect.arrayContaining(["volume-k8s-2-id", "cloudinit-k8s-2-id"]));
    expect(rec.named("ready-k8s-2", LOCAL).inputs.triggers).toEqual(["domain-k8s-2-id"]);
    for (const layer of ["prep", "artifacts", "etcd", "control-plane", "kubelet"]) {
      expect(rec.named(`${layer}-k8s-2`, "command:remote:Command").inputs.triggers).toContainEqual({ host: "ready-k8s-2-id" });
    }
  });
});

describe("a machine gone from libvirt (rebuildNodes)", () => {
  const c = loadConfig(dev).config!;
  // a stand-in virsh (--quiet output): libvirt (unless down) has the domains and the volumes of the pool given
  function probe(have: string[], down = false): { stdout: string; stderr: string; status: number | null } {
    const dir = tmpdir("machines-");
    fs.writeFileSync(path.join(dir, "domains"), have.filter((h) => !h.endsWith(".qcow2")).join("\n") + "\n");
    fs.writeFileSync(path.join(dir, "volumes"), have.filter((h) => h.endsWith(".qcow2")).map((v) => ` ${v}   /var/lib/libvirt/images/k8s-lab/${v}`).join("\n") + "\n");
    fs.writeFileSync(
      path.join(dir, "virsh"),
      [
        "#!/bin/bash",
        `[[ -e ${dir}/down ]] && { echo "error: failed to connect to the hypervisor" >&2; exit 1; }`,
        `echo "$*" >> ${dir}/calls`,
        'case "$*" in',
        `  "--quiet -c qemu:///system list --all --name") cat ${dir}/domains ;;`,
        `  "--quiet -c qemu:///system vol-list --pool k8s-lab") cat ${dir}/volumes ;;`,
        '  *) echo "unexpected: $*" >&2; exit 1 ;;',
        "esac",
      ].join("\n") + "\n",
      { mode: 0o755 },
    );
    if (down) fs.writeFileSync(path.join(dir, "down"), "");
    const probes = machinesProbes(c, ["k8s-1", "k8s-2", "k8s-3"]);
    expect(probes).toHaveLength(1);
    const p = probes[0];
    const r = spawnSync("bash", ["-s"], { input: p.script, encoding: "utf8", env: { ...process.env, ...p.environment, PATH: `${dir}:${process.env.PATH}` } });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  }

  it("the probe says which node lost its domain or its disk, asking libvirt two listings (virsh list, vol-list)", () => {
    const r = probe(["k8s-lab-k8s-1", "k8s-lab-k8s-1.qcow2", "k8s-lab-k8s-2.qcow2", "k8s-lab-k8s-3"]);
    expect(r.stderr).toBe("");
    expect(parseMachinesProbe(r.stdout)).toEqual([
      { node: "k8s-1", domain: true, disk: true },
      { node: "k8s-2", domain: false, disk: true },
      { node: "k8s-3", domain: true, disk: false },
    ]);
  });

  it("the probe says nothing when libvirt does not answer (the VM steps say why)", () => {
    const r = probe([], true);
    expect(r.status).toBe(0);
    expect(parseMachinesProbe(r.stdout)).toBeUndefined();
  });

  it("a new machine is a new disk and seed (so a new domain and gate); the first machine's triggers stay as they were", () => {
    const node = c.nodes[1];
    expect(planNodeVolume(c, node).triggers).toEqual(planNodeVolume(c, node, 1).triggers);
    expect(planNodeVolume(c, node).triggers).not.toHaveProperty("machine");
    expect(planNodeVolume(c, node, 2).triggers).toEqual({ ...planNodeVolume(c, node).triggers, machine: 2 });
    expect(planCloudInitDisk(c, node, KEY, 3).triggers).toEqual({ ...planCloudInitDisk(c, node, KEY).triggers, machine: 3 });
    expect(planDomain(c, node).triggers).not.toHaveProperty("machine");
  });
});

describe("guest boot facts a real run found", () => {
  const c = loadConfig(dev).config!;
  const node = c.nodes[0];

  it("attaches the NoCloud seed as a read-only virtio disk, a bus every cloud kernel drives (Debian's has no AHCI)", () => {
    const r = run("xmllint", ["--xpath", "//disk", "-"], domainXml(c, node));
    expect(r.status).toBe(0);
    const disks = [...r.stdout.matchAll(/<disk[\s\S]*?<\/disk>/g)].map((m) => m[0]);
    expect(disks).toHaveLength(2);
    for (const d of disks) expect(d).toMatch(/<target dev="vd[a-z]" bus="virtio"\/>/);
    const seed = disks.find((d) => d.includes("-seed.iso"))!;
    expect(seed).toMatch(/device="disk"/);
    expect(seed).toContain("<readonly/>");
  });

  it("gives changed user-data a new instance-id, so a guest on its old disk applies it", () => {
    const a = planCloudInitDisk(c, node, KEY).documents["meta-data"];
    const b = planCloudInitDisk(c, node, KEY.replace("k8s-lab", "other")).documents["meta-data"];
    const id = (md: string) => (YAML.parse(md) as { "instance-id": string })["instance-id"];
    expect(id(a)).not.toBe(id(b));
    expect(id(a)).toBe(id(planCloudInitDisk(c, node, KEY).documents["meta-data"]));
  });

  it("removes the guest's console log with its domain (local libvirt)", () => {
    const dir = tmpdir("console-");
    const log = path.join(dir, "serial.log");
    fs.writeFileSync(log, "boot\n");
    const qemuLog = path.join(dir, "qemu.log");
    fs.writeFileSync(qemuLog, "qemu\n");
    const script = planDomain(c, node).delete.split(`/var/log/libvirt/qemu/k8s-lab-${node.name}-serial.log`).join(log).split(`/var/log/libvirt/qemu/k8s-lab-${node.name}.log`).join(qemuLog);
    // libvirt answers (uri), and knows no such domain (everything else)
    fs.writeFileSync(path.join(dir, "virsh"), '#!/bin/sh\nfor a; do [ "$a" = uri ] && exit 0; done\nexit 1\n', { mode: 0o755 });
    const r = run("bash", ["-c", `PATH=${dir}:$PATH LIBVIRT_URI=qemu:///system; export PATH LIBVIRT_URI; ${script}`]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(fs.existsSync(log)).toBe(false);
    expect(fs.existsSync(qemuLog)).toBe(false);
  });

  describe("the readiness gate", () => {
    // stubs on PATH: ssh answers as configured; the console log is a temp file
    function gate(consoleText: string, sshExit: number): { status: number | null; stderr: string; seconds: number } {
      const dir = tmpdir("ready-");
      const log = path.join(dir, "serial.log");
      fs.writeFileSync(log, consoleText);
      fs.writeFileSync(path.join(dir, "ssh"), `#!/bin/sh\nexit ${sshExit}\n`, { mode: 0o755 });
      fs.writeFileSync(path.join(dir, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const script = readinessScript(c, node, true).split(`/var/log/libvirt/qemu/k8s-lab-${node.name}-serial.log`).join(log);
      const t0 = Date.now();
      const r = run("timeout", ["20", "bash", "-c", `export PATH=${dir}:$PATH LIBVIRT_URI=qemu:///system; ${script}`], "KEY");
      return { status: r.status, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
    }

    it("says at once that the guest found no seed (DataSourceNone on the console)", () => {
      const r = gate("Cloud-init v. 22.4.2 finished at Fri. Datasource DataSourceNone.  Up 30.00 seconds\n", 255);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^node k8s-1: cloud-init found no NoCloud seed \(DataSourceNone/);
      expect(r.seconds).toBeLessThan(10);
    });

    // ssh answers in turn with these exit codes (the last one repeats)
    function sequence(exits: number[]): { status: number | null; stdout: string; stderr: string; calls: number } {
      const dir = tmpdir("ready-seq-");
      fs.writeFileSync(path.join(dir, "ssh"), `#!/bin/bash\nn=$(cat ${dir}/n 2>/dev/null || echo 0); echo $((n + 1)) > ${dir}/n\nexits=(${exits.join(" ")}); i=$(( n < \${#exits[@]} ? n : \${#exits[@]} - 1 ))\nexit \${exits[$i]}\n`, { mode: 0o755 });
      fs.writeFileSync(path.join(dir, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const r = run("timeout", ["20", "bash", "-c", `export PATH=${dir}:$PATH LIBVIRT_URI=qemu:///system; ${readinessScript(c, node, true)}`], "KEY");
      return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls: Number(fs.readFileSync(path.join(dir, "n"), "utf8")) };
    }

    it("waits on when sshd restarts under cloud-init (a refused connection after the first answer: found by a real run)", () => {
      // SSH answers, then the connection is refused twice (ssh exits 255), then cloud-init says done
      const r = sequence([0, 255, 255, 0]);
      expect(r.stderr).toBe("");
      expect(r.stdout.trim()).toBe("k8s-1 ready");
      expect(r.status).toBe(0);
      expect(r.calls).toBe(4);
    });

    it("fails with cloud-init's own exit when cloud-init did not finish cleanly", () => {
      const r = sequence([0, 2]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^cloud-init on node k8s-1 did not finish cleanly within \d+ s \(exit 2\)/);
      expect(r.calls).toBe(2);
    });

    it("passes when SSH and cloud-init answer", () => {
      const r = gate("Cloud-init v. 22.4.2 finished. Datasource DataSourceNoCloud [seed=/dev/vdb].\n", 0);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    });
  });
});

describe("libvirt scripts when libvirt does not answer (found by a real destroy)", () => {
  it("fail with the URI named, every create and delete, instead of reporting the object gone", () => {
    const c = loadConfig(stackConfig("dev")).config!;
    const n = c.nodes[0];
    const plans: LibvirtObjectPlan[] = [planNetwork(c), planPool(c), planBaseVolume(c), planNodeVolume(c, n), planCloudInitDisk(c, n, "ssh-ed25519 AAAA test"), planDomain(c, n)];
    const uri = `qemu:///system?socket=${tmpdir("no-libvirt-")}/libvirt-sock`;
    let scripts = 0;
    for (const p of plans) {
      for (const [what, script] of [["create", p.create], ["delete", p.delete]] as const) {
        const r = spawnSync("bash", ["-c", script], { env: { ...process.env, LIBVIRT_URI: uri }, encoding: "utf8" });
        expect({ obj: `${p.kind} ${p.name} ${what}`, status: r.status, stderr: r.stderr.trim() }).toEqual({ obj: `${p.kind} ${p.name} ${what}`, status: 1, stderr: `cannot reach libvirt at ${uri} (is libvirtd running?); nothing was changed` });
        scripts++;
      }
    }
    expect(scripts).toBe(12);
  });
});
