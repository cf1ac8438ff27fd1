// Several libvirt hosts: which objects go to which host (under the stand-in engine), the
// preflight cases of a multi-host config, the hosts' network XML against libvirt's schema,
// and the tunnel between the hosts for real: two network namespaces stand for two hosts
// joined by a wire, each with the node network's bridge and a guest on it; the tunnel's own
// scripts join the bridges and the guests reach each other across it (then not, once it is
// deleted).
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, hostShell } from "../../components/config";
import { networkXml, domainXml, planTunnel, machinesProbes, mergeMachineStates, tunnelVni } from "../../components/vm/plan";
import { renderTree } from "../../components/render";
import { bridgeConflist } from "../../components/worker/pod-network";
import { planOf, resolvedOutputs, runProgram, stackConfig, waitsFor } from "../harness";
import { diffRuns, summary } from "../two-runs";
import { LastUp } from "../../components/config";
import { Recorder } from "../../tools/engine";
import { run, shellcheck, tmpdir } from "../tools";

const dev = stackConfig("dev");
const LOCAL = "command:local:Command";
const roles = "roles=etcd,control-plane,worker";
const HV2 = "qemu+ssh://root@10.254.0.2/system?keyfile=/root/.ssh/lab&no_verify=1";
const twoHosts = {
  ...dev,
  hypervisors: ["name=hv1 uri=qemu:///system address=10.254.0.1", `name=hv2 uri=${HV2} address=10.254.0.2`],
  nodes: [`name=k8s-1 ip=192.168.253.140 ${roles}`, `name=k8s-2 ip=192.168.253.139 ${roles}`, `name=k8s-3 ip=192.168.253.141 ${roles} host=hv2`],
};
const uriOf = (rec: Recorder, name: string) => (rec.named(name, LOCAL).inputs.environment as Record<string, string>).LIBVIRT_URI;

describe("a cluster spread over two hosts, under the stand-in engine", () => {
  let rec: Recorder;
  beforeAll(async () => {
    const r = await runProgram(twoHosts);
    expect(r.error).toBeUndefined();
    rec = r.rec;
  });

  it("makes each host its network, pool and base image and its end of the tunnel; the first host's keep their one-host names", () => {
    const vm = rec.ofType(LOCAL).map((r) => r.name).filter((n) => /^(network|pool|volume-base|tunnel)-?/.test(n)).sort();
    expect(vm).toEqual(["network-k8s-lab", "network-k8s-lab-on-hv2", "pool-k8s-lab", "pool-k8s-lab-on-hv2", "tunnel-hv1", "tunnel-hv2", "volume-base", "volume-base-on-hv2"].sort());
    for (const n of ["network-k8s-lab", "pool-k8s-lab", "volume-base", "tunnel-hv1"]) expect(uriOf(rec, n)).toBe("qemu:///system");
    for (const n of ["network-k8s-lab-on-hv2", "pool-k8s-lab-on-hv2", "volume-base-on-hv2", "tunnel-hv2"]) expect(uriOf(rec, n)).toBe(HV2);
  });

  it("puts a node's disk, seed, domain and readiness gate on its own host, and every node's DHCP/DNS entry on the first", () => {
    for (const [node, uri] of [["k8s-1", "qemu:///system"], ["k8s-2", "qemu:///system"], ["k8s-3", HV2]]) {
      for (const kind of ["volume", "cloudinit", "domain", "ready"]) expect({ step: `${kind}-${node}`, uri: uriOf(rec, `${kind}-${node}`) }).toEqual({ step: `${kind}-${node}`, uri });
      expect(uriOf(rec, `address-${node}`)).toBe("qemu:///system");
    }
    const plan = planOf(twoHosts);
    expect(waitsFor(plan, "volume-k8s-3")).toEqual(["volume-base-on-hv2"]);
    expect(waitsFor(plan, "cloudinit-k8s-3")).toEqual(["pool-k8s-lab-on-hv2"]);
    expect(waitsFor(plan, "domain-k8s-3").sort()).toEqual(["address-k8s-3", "cloudinit-k8s-3", "network-k8s-lab-on-hv2", "tunnel-hv1", "tunnel-hv2", "volume-k8s-3"]);
    expect(waitsFor(plan, "domain-k8s-1").sort()).toEqual(["address-k8s-1", "cloudinit-k8s-1", "network-k8s-lab", "tunnel-hv1", "tunnel-hv2", "volume-k8s-1"]);
    expect(waitsFor(plan, "tunnel-hv2")).toEqual(["network-k8s-lab-on-hv2"]);
  });

  it("one host (no hypervisors key) plans exactly the objects it planned before the key, with no tunnel", async () => {
    const one = await runProgram(dev);
    const names = one.rec.ofType(LOCAL).map((r) => r.name).filter((n) => n !== "api-reachable");
    expect(names.filter((n) => n.startsWith("tunnel-") || n.includes("-on-"))).toEqual([]);
    expect(names).toHaveLength(3 + 3 * 5);
    expect(networkXml(loadConfig(dev).config!)).not.toContain("mtu");
  });

  it("the guide's bridge pod network gives pods the tunnel's MTU (their packets fit the node network); one host keeps the default", () => {
    const mtu = (v: Record<string, unknown>) => ((bridgeConflist(loadConfig(v).config!, loadConfig(v).config!.nodes[0]).plugins as Array<Record<string, unknown>>)[0]).mtu;
    expect(mtu({ ...twoHosts, cni: "bridge" })).toBe(1450);
    expect(mtu({ ...dev, cni: "bridge" })).toBeUndefined();
  });

  it("the tunnel's scripts run as root on their host: here through bash, on hv2 through ssh as its URI says", () => {
    const c = loadConfig(twoHosts).config!;
    const [hv1, hv2] = c.hypervisors;
    expect(planTunnel(c, hv1).create).toContain(`bash -c 'if [ "$(id -u)" -ne 0 ]; then exec sudo -n bash -s; else exec bash -s; fi' <<'K8SLAB_XML'`);
    expect(planTunnel(c, hv2).create).toContain("ssh -o BatchMode=yes -i /root/.ssh/lab -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@10.254.0.2 ");
    expect(planTunnel(c, hv1).triggers).toEqual({ device: "vx-k8s-lab", host: "qemu:///system" });
    expect(planTunnel(c, hv1).documents["tunnel-hv1.env"]).toBe(`DEV=vx-k8s-lab\nBRIDGE=br-k8s-lab\nVNI=${tunnelVni(c)}\nLOCAL=10.254.0.1\nREMOTES=10.254.0.2\nMTU=1450\n`);
    for (const p of [planTunnel(c, hv1), planTunnel(c, hv2)]) for (const s of [p.create, p.delete]) expect(shellcheck(s).stdout).toBe("");
    expect(hostShell("qemu+ssh://k8s@hv3:2222/system")).toEqual({ ssh: ["-o", "BatchMode=yes", "-p", "2222", "k8s@hv3"] });
    expect(hostShell("qemu+tcp://hv3/system")).toBeUndefined();
  });

  it("asks each host only for its own nodes' machines, a leaving node on every host, and merges the answers", () => {
    const c = loadConfig(twoHosts).config!;
    const probes = machinesProbes(c, ["k8s-1", "k8s-3", "k8s-9"]);
    expect(probes.map((p) => [p.host, p.environment.LIBVIRT_URI, p.environment.MACHINES.split("\n").map((l) => l.split(" ")[0])])).toEqual([
      ["hv1", "qemu:///system", ["k8s-1", "k8s-9"]],
      ["hv2", HV2, ["k8s-3", "k8s-9"]],
    ]);
    expect(mergeMachineStates([[{ node: "k8s-9", domain: false, disk: true }], [{ node: "k8s-9", domain: true, disk: false }]])).toEqual([{ node: "k8s-9", domain: true, disk: true }]);
  });

  it("the render names each host's URI in the runbook and in each script", () => {
    const files = renderTree(loadConfig(twoHosts).config!);
    const scripts = [...files.keys()].filter((f) => /libvirt\/scripts\/.*-(network|tunnel|domain)-.*create\.sh$/.test(f));
    expect(scripts.length).toBe(2 + 2 + 3);
    expect(files.get(scripts.find((f) => f.includes("tunnel-vx-k8s-lab-hv2"))!)).toContain(`LIBVIRT_URI=${HV2} bash`);
    expect(files.get("RUNBOOK.md")).toContain(`hv1: qemu:///system; hv2: ${HV2}`);
  });
});

describe("day two across hosts, under the stand-in engine", () => {
  const worker4 = "name=k8s-4 ip=192.168.253.142 roles=worker memoryMiB=1536 vcpu=1 host=hv2";
  let first: Awaited<ReturnType<typeof runProgram>>;
  let recorded: Record<string, unknown>;
  beforeAll(async () => {
    first = await runProgram(twoHosts, { established: [] });
    expect(first.error).toBeUndefined();
    recorded = await resolvedOutputs(first.outputs!);
  });

  it("records which host each node not on the first one runs on, and that the lab spans hosts", () => {
    expect((recorded.lastUp as LastUp).hosts).toEqual({ "k8s-3": "hv2" });
    expect((recorded.lastUp as LastUp).multiHost).toBe(true);
  });

  it("a running lab going from several hosts to one: refused (every VM would be replaced at once), nothing registered", async () => {
    const oneHost = { ...twoHosts, hypervisors: [], nodes: twoHosts.nodes.map((n) => n.replace(" host=hv2", "")) };
    const r = await runProgram(oneHost, { previousOutputs: recorded });
    expect(String(r.error)).toMatch(/error: hypervisors: the running lab spans several hosts and would be on one: .* replaces them all at once .*; fix: keep two hypervisors listed/);
    expect(r.rec.resources).toEqual([]);
  }, 120000);

  it("a worker added on the second host: only its own objects are created, there; nothing else is replaced", async () => {
    const added = await runProgram({ ...twoHosts, nodes: [...twoHosts.nodes, worker4] }, { previousOutputs: recorded });
    expect(added.error).toBeUndefined();
    const changes = diffRuns(first.rec, added.rec);
    // the gate that lists the nodes is the one running step that changes (as on one host)
    expect(summary(changes, (c) => c.op === "replace" || c.op === "delete")).toEqual(["replace nodes-registered"]);
    const created = summary(changes, (c) => c.op === "create");
    for (const kind of ["address", "volume", "cloudinit", "domain", "ready", "prep", "kubelet"]) expect(created).toContain(`create ${kind}-k8s-4`);
    for (const kind of ["volume", "cloudinit", "domain", "ready"]) expect(uriOf(added.rec, `${kind}-k8s-4`)).toBe(HV2);
    expect(uriOf(added.rec, "address-k8s-4")).toBe("qemu:///system");
    const out = await resolvedOutputs(added.outputs!);
    expect((out.lastUp as LastUp).hosts).toEqual({ "k8s-3": "hv2", "k8s-4": "hv2" });
  }, 120000);

  it("a third host: each existing end of the tunnel is updated in place (its remotes), not taken down and made again", async () => {
    const three = { ...twoHosts, hypervisors: [...twoHosts.hypervisors, "name=hv3 uri=qemu+ssh://root@10.254.0.3/system address=10.254.0.3"] };
    const r = await runProgram(three, { previousOutputs: recorded });
    expect(r.error).toBeUndefined();
    const changes = diffRuns(first.rec, r.rec);
    expect(summary(changes, (c) => c.name.startsWith("tunnel-"))).toEqual(["update tunnel-hv1", "update tunnel-hv2", "create tunnel-hv3"].sort());
    expect(summary(changes, (c) => c.op === "replace")).toEqual([]);
    expect(r.rec.named("tunnel-hv1", LOCAL).inputs.stdin).toContain("REMOTES='10.254.0.2 10.254.0.3'");
  }, 120000);

  it("a node moved to the other host: refused until rebuildNodes names it; then a new machine there, its old one deleted, its memberships kept", async () => {
    const moved = { ...twoHosts, nodes: [twoHosts.nodes[0], `${twoHosts.nodes[1]} host=hv2`, twoHosts.nodes[2]] };
    const refused = await runProgram(moved, { previousOutputs: recorded });
    expect(String(refused.error)).toContain("error: nodes[1]: k8s-2 runs on hv1 and would move to hv2: a new machine there (its disk is not copied), its machine on hv1 deleted; fix: name it in rebuildNodes for this up");
    expect(refused.rec.resources).toEqual([]);
    const asked = await runProgram({ ...moved, rebuildNodes: ["k8s-2"] }, { previousOutputs: recorded });
    expect(asked.error).toBeUndefined();
    const changes = diffRuns(first.rec, asked.rec);
    expect(changes.filter((c) => c.op !== "replace").map((c) => c.name)).toEqual([]);
    const replaced = changes.map((c) => c.name);
    for (const kind of ["volume", "cloudinit", "domain", "ready", "prep", "etcd", "kubelet"]) expect(replaced).toContain(`${kind}-k8s-2`);
    expect(replaced).not.toContain("node-k8s-2");
    expect(replaced).not.toContain("etcd-membership-k8s-2");
    for (const kind of ["volume", "cloudinit", "domain", "ready"]) expect(uriOf(asked.rec, `${kind}-k8s-2`)).toBe(HV2);
    // the old machine is deleted where it was: a replaced command's delete runs with its recorded environment
    expect(uriOf(first.rec, "domain-k8s-2")).toBe("qemu:///system");
    const out = await resolvedOutputs(asked.outputs!);
    expect((out.lastUp as LastUp).hosts).toEqual({ "k8s-2": "hv2", "k8s-3": "hv2" });
    expect((out.lastUp as LastUp).machines).toEqual({ "k8s-2": 2 });
  }, 180000);
});

describe("a running one-host lab given a second host", () => {
  const oneHost = { ...twoHosts, hypervisors: [], nodes: twoHosts.nodes.map((n) => n.replace(" host=hv2", "")) };
  let recorded: Record<string, unknown>;
  beforeAll(async () => {
    const first = await runProgram(oneHost, { established: [] });
    expect(first.error).toBeUndefined();
    expect(first.rec.resources.length).toBeGreaterThan(50);
    recorded = await resolvedOutputs(first.outputs!);
    expect((recorded.lastUp as LastUp).multiHost).toBeUndefined();
  }, 120000);

  it("is refused before anything is registered: the MTU would replace the network and every VM at once", async () => {
    for (const nodes of [oneHost.nodes, twoHosts.nodes]) {
      const r = await runProgram({ ...oneHost, hypervisors: twoHosts.hypervisors, nodes }, { previousOutputs: recorded });
      expect(String(r.error)).toMatch(/error: hypervisors: the running lab is on one host and would span 2 \(hv1, hv2\): the node network and every VM get the tunnel's MTU 1450, which replaces them all at once .*; fix: start a lab that spans hosts with every hypervisor listed from its first up/);
      expect(r.rec.resources).toEqual([]);
    }
  }, 120000);

  it("the same one-host config again is let through (the rule is about the change)", async () => {
    const r = await runProgram(oneHost, { previousOutputs: recorded });
    expect(r.error).toBeUndefined();
    expect(r.rec.resources.length).toBeGreaterThan(50);
  }, 120000);
});

describe("preflight of several hosts: one line naming the key and the fix, nothing registered", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["a node on a host no entry names", { nodes: [...twoHosts.nodes.slice(0, 2), `name=k8s-3 ip=192.168.253.141 ${roles} host=hv3`] }, /^error: nodes\[2\]: host=hv3 is not a hypervisor of this config \(hv1, hv2\); fix: name one of the hypervisors entries/],
    ["host= without hypervisors", { hypervisors: [], nodes: [...twoHosts.nodes.slice(0, 2), `name=k8s-3 ip=192.168.253.141 ${roles} host=hv2`] }, /^error: nodes\[2\]: host=hv2 is not a hypervisor of this config \(default\); fix: add the host to hypervisors/],
    ["a host without an address", { hypervisors: ["name=hv1 uri=qemu:///system address=10.254.0.1", `name=hv2 uri=${HV2}`] }, /^error: hypervisors\[1\]: has no address=: the hosts' node networks are joined by a tunnel.*; fix: add address=IP/],
    ["a URI that gives no shell for the tunnel", { hypervisors: ["name=hv1 uri=qemu:///system address=10.254.0.1", "name=hv2 uri=qemu+tcp://10.254.0.2/system address=10.254.0.2"] }, /^error: hypervisors\[1\]: uri=qemu\+tcp:\/\/10\.254\.0\.2\/system: the tunnel between the hosts needs a shell on each/],
    ["a first host that is not this machine", { hypervisors: [`name=hv2 uri=${HV2} address=10.254.0.2`, "name=hv1 uri=qemu:///system address=10.254.0.1"] }, /^error: hypervisors\[0\]: hv2 .* carries the node network's gateway, DHCP and DNS.*; fix: list the host Pulumi runs on first/],
    ["two hosts with one name", { hypervisors: ["name=hv1 uri=qemu:///system address=10.254.0.1", `name=hv1 uri=${HV2} address=10.254.0.2`] }, /^error: hypervisors\[1\]: name=hv1 is already given by hypervisors\[0\]; fix: give every host its own name$/],
    ["libvirtUri beside hypervisors", { libvirtUri: "qemu+ssh://root@hv/system" }, /^error: libvirtUri: is set together with hypervisors.*; fix: remove libvirtUri/],
    ["an entry field that does not exist", { hypervisors: ["name=hv1 uri=qemu:///system addr=10.254.0.1"] }, /^error: hypervisors\[0\]: 'addr=10\.254\.0\.1' is not a hypervisor field/],
    ["hypervisors with existing machines", { hostMode: "existing", baseImagePath: undefined }, /^error: hypervisors: is set, but the nodes are existing machines \(hostMode: existing\)/],
  ];
  it.each(cases)("%s", async (_, change, line) => {
    const { rec, error } = await runProgram({ ...twoHosts, ...change });
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    const lines = (error as Error).message.split("\n").slice(1);
    expect(lines.filter((l) => line.test(l))).toHaveLength(1);
    expect(rec.resources).toHaveLength(0);
  });

  it("the two-host config itself has no problem", () => {
    expect(loadConfig(twoHosts).errors).toEqual([]);
    expect(loadConfig(twoHosts).warnings).toEqual([]);
  });
});

describe("the hosts' documents pass libvirt's schema", () => {
  let dir: string;
  beforeAll(() => (dir = tmpdir("hosts-")));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const validate = (kind: string, text: string) => {
    const f = path.join(dir, `${kind}.xml`);
    fs.writeFileSync(f, text);
    return run("virt-xml-validate", [f, kind]);
  };

  it("the first host's NAT network and the others' bare bridge, both at the tunnel's MTU; every domain's NIC too", () => {
    const c = loadConfig(twoHosts).config!;
    const [hv1, hv2] = c.hypervisors;
    const first = networkXml(c, hv1);
    const other = networkXml(c, hv2);
    for (const [kind, text] of [["network", first], ["network", other], ...c.nodes.map((n) => ["domain", domainXml(c, n)])]) expect(validate(kind, text).status).toBe(0);
    expect(first).toContain('<forward mode="nat"/>');
    expect(first).toContain('<ip address="192.168.253.1"');
    expect(other).not.toMatch(/<ip |<forward|<dhcp|<domain /);
    for (const x of [first, other]) expect(x).toContain('<mtu size="1450"/>');
    expect(domainXml(c, c.nodes[2])).toContain('<mtu size="1450"/>');
  });
});

describe("the tunnel for real: two hosts (network namespaces) joined by a wire", () => {
  // hv1 and hv2 both here (local URIs), so each end's own script runs inside its namespace
  const c = loadConfig({
    ...twoHosts,
    hypervisors: ["name=hv1 uri=qemu:///system address=10.254.0.1", "name=hv2 uri=qemu:///system?socket=/run/hv2/libvirt-sock address=10.254.0.2"],
  }).config!;
  const [hv1, hv2] = c.hypervisors;
  let dir: string;
  beforeAll(() => {
    dir = tmpdir("tunnel-");
    for (const [h, p] of [["hv1", planTunnel(c, hv1)], ["hv2", planTunnel(c, hv2)]] as const) {
      fs.writeFileSync(path.join(dir, `${h}-up.sh`), p.create);
      fs.writeFileSync(path.join(dir, `${h}-down.sh`), p.delete);
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // in a user, network and mount namespace of its own (no root needed, nothing left behind):
  // two hosts with the node network's bridge (as libvirt makes it) and one guest each
  const world = (steps: string) =>
    run("unshare", ["--user", "--map-root-user", "--net", "--mount", "bash", "-euo", "pipefail", "-c", [
      "mount -t tmpfs none /run",
      "for h in hv1 hv2 g1 g2; do ip netns add $h; done",
      "ip link add wire netns hv1 type veth peer name wire netns hv2",
      "ip -n hv1 addr add 10.254.0.1/24 dev wire; ip -n hv2 addr add 10.254.0.2/24 dev wire",
      "for i in 1 2; do",
      "  ip -n hv$i link set lo up; ip -n hv$i link set wire up",
      "  ip -n hv$i link add br-k8s-lab type bridge; ip -n hv$i link set br-k8s-lab mtu 1450 up",
      "  ip link add nic netns g$i type veth peer name tap netns hv$i",
      "  ip -n hv$i link set tap mtu 1450 master br-k8s-lab up",
      "  ip -n g$i link set nic mtu 1450 up",
      "done",
      "ip -n g1 addr add 192.168.253.140/24 dev nic; ip -n g2 addr add 192.168.253.141/24 dev nic",
      "ping_() { for _ in 1 2 3 4 5; do ip netns exec g1 busybox ping -c 1 -W 2 -q 192.168.253.141 >/dev/null 2>&1 && return 0; done; return 1; } # a loaded machine: up to 5 tries",
      "tunnel_state() { ip -n hv1 -o link show vx-k8s-lab; ip -n hv1 -d link show vx-k8s-lab | grep -o 'vxlan id [0-9]* local [0-9.]*'; bridge -n hv1 fdb show dev vx-k8s-lab | grep ^00:00; }",
      `cd ${dir}`,
      steps,
    ].join("\n")]);

  it("joins the hosts' bridges: a guest on hv1 reaches one on hv2, full-size frames too; a second run changes nothing; the delete undoes it", () => {
    const r = world([
      "if ping_; then echo 'reached without the tunnel'; exit 1; fi",
      "ip netns exec hv1 bash -s < hv1-up.sh; ip netns exec hv2 bash -s < hv2-up.sh",
      "ping_ || { echo 'no ping through the tunnel'; exit 1; }",
      "ip netns exec g1 busybox ping -c 1 -W 2 -q -s 1422 192.168.253.141 >/dev/null || { echo 'a 1450-byte packet did not pass'; exit 1; }",
      "before=$(tunnel_state)",
      "ip netns exec hv1 bash -s < hv1-up.sh >/dev/null",
      "after=$(tunnel_state)",
      '[[ $before == "$after" ]] || { echo "second run changed the tunnel"; exit 1; }',
      "echo \"$after\"",
      "# another host list: exactly its remotes, on the same device; then back",
      "sed 's/^REMOTES=.*/REMOTES=10.254.0.3/' hv1-up.sh | ip netns exec hv1 bash -s >/dev/null",
      "[[ $(bridge -n hv1 fdb show dev vx-k8s-lab | grep -c ^00:00) == 1 ]] && bridge -n hv1 fdb show dev vx-k8s-lab | grep -q '^00:00:00:00:00:00 dst 10.254.0.3 ' || { echo 'remotes not replaced:'; bridge -n hv1 fdb show dev vx-k8s-lab | sed 's/^/  fdb: /'; exit 1; }",
      "ip netns exec hv1 bash -s < hv1-up.sh >/dev/null",
      '[[ $(tunnel_state) == "$before" ]] || { echo "back to the first remotes: not the same tunnel"; exit 1; }',
      "ip netns exec hv1 bash -s < hv1-down.sh; ip netns exec hv2 bash -s < hv2-down.sh",
      "if ip -n hv1 link show vx-k8s-lab >/dev/null 2>&1; then echo 'left behind'; exit 1; fi",
      "if ping_; then echo 'reached after the delete'; exit 1; fi",
      "ip netns exec hv1 bash -s < hv1-down.sh # deleting again succeeds",
      "echo done",
    ].join("\n"));
    expect({ status: r.status, out: r.stdout.split("\n").filter((l) => !/^(tunnel |[0-9]+: |vxlan |00:00)/.test(l)) }).toEqual({ status: 0, out: ["done", ""] });
    expect(r.stdout).toContain(`vxlan id ${tunnelVni(c)} local 10.254.0.1\n`);
    expect(r.stdout).toContain("master br-k8s-lab");
    expect(r.stdout).toContain("00:00:00:00:00:00 dst 10.254.0.2");
    expect(r.stdout.trim().split("\n").pop()).toBe("done");
  });

  it("fails with a message naming the bridge when the host's node network is not there", () => {
    const r = world("ip -n hv1 link del br-k8s-lab; ip netns exec hv1 bash -s < hv1-up.sh");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the node network's bridge br-k8s-lab is not on");
  });
});
