// The VM layer against a REAL libvirtd: the test starts libvirtd and virtlogd inside a
// network namespace it creates (no traffic can leave it), runs the exact create commands
// the components register for one small TCG node, checks with virsh that everything
// exists and the domain runs, then runs the exact delete commands and checks that nothing
// is left. See shared notes: libvirt on these machines.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Recorded } from "../../tools/engine";
import { runProgram, stackConfig } from "../harness";
import { tmpdir } from "../tools";

const NS = `klab${process.pid}`;
const URI = "qemu:///system";
let dir = "";
let kvmMode: number | undefined;
/** Delete commands still to run if the test stops half way. */
let cleanup: Array<{ script: string; env: Record<string, string> }> = [];
const STALE = ["klabtest-node-1"];

function sh(script: string, opts: { env?: Record<string, string>; allowFail?: boolean } = {}): { status: number; out: string } {
  const r = spawnSync("ip", ["netns", "exec", NS, "bash", "-c", script], { encoding: "utf8", env: { ...process.env, ...(opts.env ?? {}) }, timeout: 240000 });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  if (!opts.allowFail && r.status !== 0) throw new Error(`command failed (${r.status}): ${script.slice(0, 200)}\n${out}`);
  return { status: r.status ?? -1, out };
}
const virsh = (args: string) => sh(`virsh -q -c ${URI} ${args}`, { allowFail: true });

const skip = process.env.K8SLAB_SKIP_LIBVIRT === "1";
(skip ? describe.skip : describe)("VM layer against a real libvirtd (TCG, inside a network namespace)", () => {
  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error("the real-libvirt test needs root (CI runs as root); set K8SLAB_SKIP_LIBVIRT=1 to skip it knowingly");
    dir = tmpdir("libvirt-");
    fs.chmodSync(dir, 0o755); // qemu runs as libvirt-qemu and must reach the pool
    if (fs.existsSync("/dev/kvm")) {
      kvmMode = fs.statSync("/dev/kvm").mode & 0o777;
      spawnSync("chgrp", ["kvm", "/dev/kvm"]);
      fs.chmodSync("/dev/kvm", 0o660); // otherwise libvirt re-probes QEMU on every define
    }
    fs.writeFileSync(path.join(dir, "virtlogd.conf"), `log_outputs="1:file:${dir}/virtlogd.log"\n`);
    fs.writeFileSync(
      path.join(dir, "libvirtd.conf"),
      ['listen_tls = 0', 'listen_tcp = 0', 'auth_unix_rw = "none"', 'auth_unix_ro = "none"', `log_outputs = "2:file:${dir}/libvirtd.log"`].join("\n") + "\n",
    );
    // a second libvirtd would take the first one's socket, and removes it when it exits: a
    // running `npm run lab:e2e` then lost its libvirtd mid-run (seen). Refuse instead.
    if (spawnSync("virsh", ["-q", "-c", URI, "uri"], { stdio: "ignore" }).status === 0) {
      throw new Error(`a libvirtd already answers on ${URI} (npm run lab:e2e?); this test starts its own and would take that one's socket: stop it first`);
    }
    const add = spawnSync("ip", ["netns", "add", NS], { encoding: "utf8" });
    if (add.status !== 0) throw new Error(`ip netns add failed: ${add.stderr}`);
    sh("ip link set lo up");
    sh(`virtlogd -d -f ${dir}/virtlogd.conf -p ${dir}/virtlogd.pid`);
    sh(`libvirtd -d -f ${dir}/libvirtd.conf -p ${dir}/libvirtd.pid`);
    sh(`for _ in $(seq 120); do virsh -q -c ${URI} version >/dev/null 2>&1 && exit 0; sleep 1; done; echo "libvirtd did not answer" >&2; exit 1`);
    // libvirt keeps definitions in /etc/libvirt: clear what an earlier, interrupted run may have left
    for (const d of STALE) sh(`virsh -c ${URI} destroy ${d}; virsh -c ${URI} undefine ${d}`, { allowFail: true });
    sh(`virsh -c ${URI} net-destroy klabtest; virsh -c ${URI} net-undefine klabtest; virsh -c ${URI} pool-destroy klabtest; virsh -c ${URI} pool-undefine klabtest`, { allowFail: true });
  }, 240000);

  afterAll(() => {
    if (!dir) return;
    for (const c of cleanup.reverse()) sh(c.script, { env: c.env, allowFail: true });
    for (const p of ["libvirtd.pid", "virtlogd.pid"]) {
      const f = path.join(dir, p);
      if (fs.existsSync(f)) spawnSync("kill", [fs.readFileSync(f, "utf8").trim()]);
    }
    spawnSync("bash", ["-c", `sleep 1; ip netns pids ${NS} 2>/dev/null | xargs -r kill -9; ip netns del ${NS}`]);
    if (kvmMode !== undefined) fs.chmodSync("/dev/kvm", kvmMode);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60000);

  it("creates the network, pool, volumes and a running domain, then deletes every one of them", async () => {
    const base = path.join(dir, "base.qcow2");
    spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", base, "1G"]);
    const pool = path.join(dir, "pool");
    const { rec, error } = await runProgram({
      ...stackConfig("dev"),
      clusterName: "klabtest",
      // node-1 is the one machine made; node-2 and node-3 get only their network entries
      nodes: [
        "name=node-1 ip=10.254.77.10 roles=etcd,control-plane,worker vcpu=2 memoryMiB=2048 diskGiB=2",
        "name=node-2 ip=10.254.77.11 roles=control-plane,worker vcpu=2 memoryMiB=2048 diskGiB=2",
        "name=node-3 ip=10.254.77.12 roles=worker vcpu=2 memoryMiB=2048 diskGiB=2",
      ],
      // a name in the lab's domain: the lab network answers it with every control-plane node
      apiserverEndpoint: "api.klabtest.lab",
      nodeCidr: "10.254.77.0/24",
      domainType: "qemu",
      libvirtUri: URI,
      storagePool: "klabtest",
      storagePoolPath: pool,
      baseImagePath: base,
    });
    expect(error).toBeUndefined();
    const cmd = (name: string): Recorded => rec.named(name, "command:local:Command");
    const order = ["network-klabtest", "address-node-1", "address-node-2", "address-node-3", "pool-klabtest", "volume-base", "volume-node-1", "cloudinit-node-1", "domain-node-1"];

    for (const name of order) {
      const r = cmd(name);
      expect(r.inputs.interpreter).toEqual(["/bin/bash", "-c"]);
      cleanup.push({ script: r.inputs.delete, env: r.inputs.environment });
      sh(r.inputs.stdin, { env: r.inputs.environment });
    }
    // idempotent: running every create again changes nothing and does not fail
    for (const name of order) sh(cmd(name).inputs.stdin, { env: cmd(name).inputs.environment });

    expect(virsh("net-info klabtest").out).toMatch(/Active:\s+yes/);
    // the node's own entry in the running network: its DHCP reservation (served by dnsmasq
    // now, not only after a restart) and its DNS names
    expect(virsh("net-dumpxml klabtest").out).toContain("<host mac='52:54:00:fe:4d:0a' name='node-1' ip='10.254.77.10'/>");
    expect(virsh("net-dumpxml klabtest").out).toMatch(/<host ip='10\.254\.77\.10'>\s*<hostname>node-1<\/hostname>/);
    expect(virsh("net-dumpxml --inactive klabtest").out).toContain("<host mac='52:54:00:fe:4d:0a' name='node-1' ip='10.254.77.10'/>");
    expect(sh("cat /var/lib/libvirt/dnsmasq/klabtest.conf").out).toMatch(/^dhcp-range=10\.254\.77\.1,static$/m);
    expect(sh("cat /var/lib/libvirt/dnsmasq/klabtest.hostsfile").out).toContain("52:54:00:fe:4d:0a,10.254.77.10,node-1");
    expect(virsh("pool-info klabtest").out).toMatch(/State:\s+running/);
    const vols = virsh("vol-list klabtest").out;
    for (const v of ["klabtest-base.qcow2", "klabtest-node-1.qcow2", "klabtest-node-1-seed.iso"]) expect(vols).toContain(v);
    expect(virsh("vol-dumpxml --pool klabtest klabtest-node-1.qcow2").out).toMatch(/<backingStore[\s\S]*klabtest-base\.qcow2/);
    expect(virsh("vol-info --pool klabtest klabtest-node-1.qcow2").out).toMatch(/Capacity:\s+2\.00 GiB/);
    expect(virsh("domstate klabtest-node-1").out.trim()).toBe("running");
    expect(virsh("dominfo klabtest-node-1").out).toMatch(/Autostart:\s+enable/);

    // the names as the nodes' resolver gets them, from the network's dnsmasq (busybox's nslookup)
    const lookup = (name: string): string[] => {
      const out = sh(`busybox nslookup ${name} 10.254.77.1`, { allowFail: true }).out;
      return [...out.split(/^Name:/m).slice(1).join("").matchAll(/^Address:\s*(\S+)$/gm)].map((m) => m[1]).sort();
    };
    expect(lookup("api.klabtest.lab")).toEqual(["10.254.77.10", "10.254.77.11"]);
    expect(lookup("node-3.klabtest.lab")).toEqual(["10.254.77.12"]);
    expect(lookup("node-1.klabtest.lab")).toEqual(["10.254.77.10"]);

    // a node's entry goes with it (the shared apiserver name too), the network stays for the others
    sh(cmd("address-node-1").inputs.delete, { env: cmd("address-node-1").inputs.environment });
    expect(virsh("net-dumpxml klabtest").out).not.toContain("52:54:00:fe:4d:0a");
    expect(virsh("net-dumpxml --inactive klabtest").out).not.toContain("52:54:00:fe:4d:0a");
    expect(virsh("net-dumpxml klabtest").out).not.toContain("10.254.77.10'>");
    expect(virsh("net-info klabtest").out).toMatch(/Active:\s+yes/);
    expect(lookup("api.klabtest.lab")).toEqual(["10.254.77.11"]);
    expect(lookup("node-1.klabtest.lab")).toEqual([]);

    for (const name of [...order].reverse()) sh(cmd(name).inputs.delete, { env: cmd(name).inputs.environment });
    cleanup = [];

    // its own domain is gone (definitions another run left in /etc/libvirt are not this test's)
    expect(virsh("list --all --name").out.split("\n").filter((d) => d.startsWith("klabtest"))).toEqual([]);
    expect(virsh("net-list --all --name").out).not.toContain("klabtest");
    expect(virsh("pool-list --all --name").out).not.toContain("klabtest");
    expect(fs.existsSync(pool)).toBe(false);
    // deletes are safe to run twice (a failed destroy can be retried)
    for (const name of [...order].reverse()) sh(cmd(name).inputs.delete, { env: cmd(name).inputs.environment });
  }, 600000);
});
