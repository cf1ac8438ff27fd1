// Every preflight rule: a bad value gives a line that names the key and the fix, and the
// program registers nothing. Rules that only warn let the program run.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { CATALOG, KEYS, PROJECT, computedNoProxy, engineConfig, loadConfig, rawSchema, runEnv, valuesAsEngineGives } from "../../components/config";
import { loadStackConfig } from "../../components/config/stack";
import { ROOT, runProgram, stackConfig } from "../harness";

const dev = stackConfig("dev");
const allRoles = "roles=etcd,control-plane,worker";
const nodes3 = (extra: string[] = ["", "", ""]) => [
  `name=k8s-1 ip=192.168.253.140 ${allRoles} ${extra[0]}`.trim(),
  `name=k8s-2 ip=192.168.253.139 ${allRoles} ${extra[1]}`.trim(),
  `name=k8s-3 ip=192.168.253.141 ${allRoles} ${extra[2]}`.trim(),
];

interface Case {
  rule: string;
  change: Record<string, unknown>;
  /** The line expected in the error, as a regular expression. */
  line: RegExp;
}

const cases: Case[] = [
  { rule: "node names must be DNS-1123 labels (the guide's k8s_1)", change: { nodes: ["name=k8s_1 ip=192.168.253.140 " + allRoles] }, line: /^error: nodes\[0\]: node name 'k8s_1' is not a DNS-1123 label.*; fix: rename it, e.g. name=k8s-1$/ },
  { rule: "upper-case node names are rejected", change: { nodes: ["name=K8S-1 ip=192.168.253.140 " + allRoles] }, line: /^error: nodes\[0\]: node name 'K8S-1' is not a DNS-1123 label.*e\.g\. name=k8s-1$/ },
  { rule: "duplicate node names", change: { nodes: ["name=k8s-1 ip=192.168.253.140 " + allRoles, "name=k8s-1 ip=192.168.253.141 roles=worker"] }, line: /^error: nodes\[1\]: node name 'k8s-1' is already used by nodes\[0\]; fix: give every node its own name$/ },
  { rule: "duplicate node IPs", change: { nodes: ["name=k8s-1 ip=192.168.253.140 " + allRoles, "name=k8s-2 ip=192.168.253.140 roles=worker"] }, line: /^error: nodes\[1\]: ip=192\.168\.253\.140 is already used by nodes\[0\]/ },
  { rule: "node IP outside the node CIDR", change: { nodes: ["name=k8s-1 ip=10.0.0.5 " + allRoles] }, line: /^error: nodes\[0\]: ip=10\.0\.0\.5 is outside nodeCidr 192\.168\.253\.0\/24; fix: pick an address inside/ },
  { rule: "node IP equal to the network address", change: { nodes: ["name=k8s-1 ip=192.168.253.0 " + allRoles] }, line: /^error: nodes\[0\]: ip=192\.168\.253\.0 is the network or broadcast address/ },
  { rule: "node IP equal to the libvirt gateway", change: { nodes: ["name=k8s-1 ip=192.168.253.1 " + allRoles] }, line: /^error: nodes\[0\]: ip=192\.168\.253\.1 is the gateway of the libvirt network/ },
  { rule: "not an IP", change: { nodes: ["name=k8s-1 ip=192.168.253 " + allRoles] }, line: /^error: nodes\[0\]: ip=192\.168\.253 is not an IPv4 address/ },
  { rule: "pod CIDR overlapping the node network (one of the guide's attempts)", change: { podCidr: "192.168.253.0/24" }, line: /^error: podCidr: podCidr 192\.168\.253\.0\/24 overlaps nodeCidr 192\.168\.253\.0\/24/ },
  { rule: "service CIDR overlapping the pod CIDR", change: { serviceCidr: "10.244.0.0/16" }, line: /^error: serviceCidr: serviceCidr 10\.244\.0\.0\/16 overlaps podCidr/ },
  { rule: "node CIDR overlapping the service CIDR", change: { nodeCidr: "10.96.0.0/16", nodes: ["name=k8s-1 ip=10.96.0.10 " + allRoles] }, line: /^error: serviceCidr: serviceCidr 10\.96\.0\.0\/12 overlaps nodeCidr 10\.96\.0\.0\/16/ },
  { rule: "a pod CIDR too small for a /24 per node", change: { podCidr: "10.244.0.0/23" }, line: /^error: podCidr: 10\.244\.0\.0\/23 cannot give each of the 3 nodes a \/24; fix: use a prefix of \/22 or shorter/ },
  { rule: "a CIDR that does not parse", change: { serviceCidr: "10.96.0.0" }, line: /^error: serviceCidr: '10\.96\.0\.0' is not an IPv4 CIDR; fix: write it as ADDRESS\/PREFIX/ },
  { rule: "no etcd member", change: { nodes: ["name=k8s-1 ip=192.168.253.140 roles=control-plane,worker"] }, line: /^error: nodes: no node has the etcd role; fix: add roles=etcd to 1, 3 or 5 nodes$/ },
  { rule: "no control-plane node", change: { nodes: ["name=k8s-1 ip=192.168.253.140 roles=etcd,worker"] }, line: /^error: nodes: no node has the control-plane role/ },
  { rule: "no worker", change: { nodes: ["name=k8s-1 ip=192.168.253.140 roles=etcd,control-plane"] }, line: /^error: nodes: no node has the worker role; nothing could run pods/ },
  { rule: "no nodes at all", change: { nodes: [] }, line: /^error: nodes: no nodes are configured/ },
  { rule: "control plane under 2 vCPU", change: { nodes: nodes3(["vcpu=1", "", ""]) }, line: /^error: nodes\[0\]: control-plane node 'k8s-1' has 1 vCPU.*at least 2.*; fix: set vcpu=2 or more/ },
  { rule: "control plane under 2 GiB", change: { nodeMemoryMiB: 1536 }, line: /^error: nodes\[2\]: control-plane node 'k8s-3' has 1536 MiB; it needs at least 2048 MiB/ },
  { rule: "any node under 1 GiB", change: { nodes: [...nodes3(), "name=k8s-4 ip=192.168.253.142 roles=worker memoryMiB=512"] }, line: /^error: nodes\[3\]: node 'k8s-4' has 512 MiB; every node needs at least 1024 MiB/ },
  { rule: "an unknown node field", change: { nodes: ["name=k8s-1 ip=192.168.253.140 role=worker"] }, line: /^error: nodes\[0\]: 'role=worker' is not a node field; fix: write fields as FIELD=VALUE/ },
  { rule: "an unknown role", change: { nodes: ["name=k8s-1 ip=192.168.253.140 roles=master"] }, line: /^error: nodes\[0\]: role 'master' is unknown; fix: use roles from: etcd, control-plane, worker$/ },
  { rule: "an unsupported Kubernetes version", change: { kubernetesVersion: "1.29.0" }, line: /^error: kubernetesVersion: 1\.29\.0 is not supported by this program; fix: use a 1\.34 to 1\.37 release$/ },
  { rule: "containerd 1.x with current Kubernetes", change: { containerdVersion: "1.7.22" }, line: /^error: containerdVersion: containerd 1\.7\.22 is 1\.x; Kubernetes 1\.36\.0 needs containerd 2\.x/ },
  { rule: "an etcd outside 3.5/3.6", change: { etcdVersion: "3.4.30" }, line: /^error: etcdVersion: etcd 3\.4\.30 is not supported/ },
  { rule: "a version without a known checksum", change: { etcdVersion: "3.6.6" }, line: /^error: etcdVersion: no checksum is known for etcd 3\.6\.6 \(linux\/amd64\); fix: add its published digest to artifactChecksums/ },
  { rule: "'latest' instead of a version", change: { kubernetesVersion: "latest" }, line: /^error: kubernetesVersion: 'latest' is not a release version MAJOR\.MINOR\.PATCH/ },
  { rule: "a malformed checksum entry", change: { artifactChecksums: ["etcd-v3.6.6-linux-amd64.tar.gz"] }, line: /^error: artifactChecksums\[0\]: 'etcd-v3\.6\.6-linux-amd64\.tar\.gz' is not FILE=DIGEST/ },
  { rule: "the proxy port equal to the apiserver port", change: { localProxyPort: 6443 }, line: /^error: localProxyPort: equals apiserverPort \(6443\)/ },
  { rule: "a cluster DNS IP outside the service CIDR", change: { clusterDnsIp: "10.244.0.10" }, line: /^error: clusterDnsIp: '10\.244\.0\.10' is not an address inside serviceCidr 10\.96\.0\.0\/12/ },
  { rule: "a kubernetes service IP that is not the first", change: { kubernetesServiceIp: "10.96.0.2" }, line: /^error: kubernetesServiceIp: 10\.96\.0\.2 is not the first host of 10\.96\.0\.0\/12/ },
  { rule: "no base image for libvirt VMs", change: { baseImagePath: undefined }, line: /^error: baseImagePath: no base image is configured for the VMs; fix: set baseImagePath/ },
  { rule: "a base image URL without checksum", change: { baseImagePath: undefined, baseImageUrl: "https://mirror.lab/debian-12-genericcloud-amd64-20250703-2162.qcow2" }, line: /^error: baseImageChecksum: is required with baseImageUrl/ },
  { rule: "a wrongly typed value", change: { nodeVcpu: "two" }, line: /^error: nodeVcpu: .*got "two".*; fix: set it to a integer/ },
  { rule: "an unknown CNI", change: { cni: "calico" }, line: /^error: cni: .*"calico".*; fix: set it to a string: Pod network: weave or flannel \(add-ons\), or bridge/ },
  { rule: "an invalid cluster name", change: { clusterName: "K8s_Lab" }, line: /^error: clusterName: must be a DNS-1123 label/ },
  // found trying the program as a new user would (each was accepted before)
  { rule: "two nodes with one MAC (given, or derived from the other's IP)", change: { nodes: nodes3(["", "mac=52:54:00:a8:fd:8c", ""]) }, line: /^error: nodes\[1\]: node 'k8s-2' would have MAC 52:54:00:a8:fd:8c, as 'k8s-1' has \(given or derived from the IP\).*; fix: give the node its own mac=/ },
  { rule: "a multicast MAC", change: { nodes: nodes3(["mac=53:54:00:00:00:01", "", ""]) }, line: /^error: nodes\[0\]: mac=53:54:00:00:00:01 is a multicast address/ },
  { rule: "ip= given twice in one node entry (the last would win)", change: { nodes: ["name=k8s-1 ip=192.168.253.140 ip=192.168.253.150 " + allRoles] }, line: /^error: nodes\[0\]: ip= is given twice \('ip=192\.168\.253\.140' and 'ip=192\.168\.253\.150'\).*; fix: keep one ip= in the entry/ },
  { rule: "a proxy without a scheme", change: { httpProxy: "proxy.lab:3128" }, line: /^error: httpProxy: 'proxy\.lab:3128' is not an http:\/\/ or https:\/\/ proxy URL.*; fix: write it with its scheme, e.g\. http:\/\/proxy\.lab:3128$/ },
  { rule: "an ftp:// proxy", change: { httpsProxy: "ftp://proxy.lab:21" }, line: /^error: httpsProxy: 'ftp:\/\/proxy\.lab:21' is not an http:\/\/ or https:\/\/ proxy URL/ },
  { rule: "a snapshot schedule systemd cannot parse", change: { etcdSnapshotSchedule: "every day at noon" }, line: /^error: etcdSnapshotSchedule: 'every day at noon' is not a systemd calendar expression; fix: .*'off'$/ },
  { rule: "sshPublicKey without sshPrivateKey (it would be replaced by a generated pair)", change: { sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKlabkeylabkeylabkeylabkeylabkeylabkeylab lab" }, line: /^error: sshPublicKey: is set without sshPrivateKey.*; fix: set the matching private key too/ },
  { rule: "more pods per node than its /24 holds", change: { cni: "flannel", kubeletMaxPods: 300 }, line: /^error: kubeletMaxPods: 300 is more pods than a node's \/24 of the pod network holds \(253 addresses with flannel\); fix: set kubeletMaxPods to 253 or less$/ },
  { rule: "a bad registry mirror entry", change: { registryMirrors: ["https://mirror.lab"] }, line: /^error: registryMirrors\[0\]: 'https:\/\/mirror\.lab' is not REGISTRY=URL/ },
  { rule: "rebuildNodes naming no node", change: { rebuildNodes: ["k8s-9"] }, line: /^error: rebuildNodes: 'k8s-9' is not a node of this config \(k8s-1, k8s-2, k8s-3\); fix: name a node whose machine is to be made again$/ },
  { rule: "rebuildNodes naming a node twice", change: { rebuildNodes: ["k8s-2", "k8s-2"] }, line: /^error: rebuildNodes: 'k8s-2' is named twice; fix: name each node once$/ },
  { rule: "rebuildNodes with existing machines", change: { hostMode: "existing", baseImagePath: undefined, rebuildNodes: ["k8s-2"] }, line: /^error: rebuildNodes: names 'k8s-2', but the nodes are existing machines \(hostMode: existing\).*; fix: take it out: a new machine behind an existing node does not run the node's steps again \(docs\/limits\.md\); to take the lab down with the machine gone, name it in lostMachines, run pulumi up, then pulumi destroy$/ },
  { rule: "lostMachines with lab VMs", change: { lostMachines: ["k8s-2"] }, line: /^error: lostMachines: names 'k8s-2', but the nodes are lab VMs, whose steps go with their disks anyway; fix: take it out: pulumi destroy finishes with a VM gone/ },
  { rule: "lostMachines naming no node", change: { hostMode: "existing", baseImagePath: undefined, lostMachines: ["k8s-9"] }, line: /^error: lostMachines: 'k8s-9' is not a node of this config \(k8s-1, k8s-2, k8s-3\); fix: name a node whose machine is gone, and keep it in nodes until the destroy$/ },
  { rule: "lostMachines naming a node twice", change: { hostMode: "existing", baseImagePath: undefined, lostMachines: ["k8s-3", "k8s-3"] }, line: /^error: lostMachines: 'k8s-3' is named twice; fix: name each node once$/ },
  { rule: "a member in etcdRejoin and rebuildNodes", change: { rebuildNodes: ["k8s-2"], etcdRejoin: ["k8s-2"] }, line: /^error: etcdRejoin: 'k8s-2' is also in rebuildNodes, whose new machine rejoins etcd anyway; fix: take 'k8s-2' out of etcdRejoin$/ },
];

describe("preflight rules", () => {
  it.each(cases)("$rule", async ({ change, line }) => {
    const { rec, error } = await runProgram({ ...dev, ...change });
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    const lines = (error as Error).message.split("\n").slice(1);
    expect(lines.some((l) => line.test(l))).toBe(true);
    expect(rec.resources).toHaveLength(0);
  });

  it("checks apiserverEndpoint: a name or address, a port in range, never a node without an apiserver", () => {
    const errs = (v: string) => loadConfig({ ...dev, apiserverEndpoint: v }).errors.map((e) => `${e.key}: ${e.message}`);
    expect(errs("api.lab.example")).toEqual([]);
    expect(loadConfig({ ...dev, apiserverEndpoint: "API.lab.example" }).config!.network.apiserverEndpoint).toEqual({ host: "api.lab.example", port: 6443 });
    expect(loadConfig({ ...dev, apiserverEndpoint: "10.0.0.5:7443" }).config!.network.apiserverEndpoint).toEqual({ host: "10.0.0.5", port: 7443 });
    expect(errs("api_lab")).toEqual(["apiserverEndpoint: 'api_lab' is neither an IPv4 address nor a DNS name"]);
    expect(errs("api.lab:70000")).toEqual(["apiserverEndpoint: port 70000 is out of range"]);
    const nodes = ["name=cp-1 ip=192.168.253.21 roles=etcd,control-plane", "name=w-1 ip=192.168.253.31 roles=worker"];
    expect(loadConfig({ ...dev, nodes, apiserverEndpoint: "192.168.253.31" }).errors.map((e) => e.message)).toContain("192.168.253.31 is node w-1, which runs no kube-apiserver");
    // a name in the lab's domain is the lab network's to answer: the apiserver port, and not a node's own name
    expect(errs("api.k8s-lab.lab")).toEqual([]);
    expect(errs("api.k8s-lab.lab:7443")).toEqual(["apiserverEndpoint: api.k8s-lab.lab is answered by the lab network's DNS with the control-plane nodes' addresses, where kube-apiserver listens on apiserverPort 6443, not 7443"]);
    expect(errs("k8s-2.k8s-lab.lab")).toEqual(["apiserverEndpoint: k8s-2.k8s-lab.lab is node k8s-2's own name in the lab's DNS"]);
    // existing machines have no lab network: the name is the user's DNS's
    expect(loadConfig({ ...dev, hostMode: "existing", baseImagePath: undefined, apiserverEndpoint: "api.k8s-lab.lab:7443" }).errors).toEqual([]);
  });

  it("the dev stack itself has no problem and no warning", () => {
    const r = loadConfig(dev);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.config?.nodes.map((n) => n.name)).toEqual(["k8s-1", "k8s-2", "k8s-3"]);
  });

  it("an even number of etcd members only warns", async () => {
    const nodes = ["name=k8s-1 ip=192.168.253.140 " + allRoles, "name=k8s-2 ip=192.168.253.139 " + allRoles];
    const r = loadConfig({ ...dev, nodes });
    expect(r.errors).toEqual([]);
    expect(r.warnings.map((w) => w.key + ": " + w.message)).toEqual(["nodes: 2 etcd members tolerate 0 failed members, no more than 1 do: the extra member is one more machine that can fail, and the quorum grows to 2"]);
    const four = ["name=k8s-3 ip=192.168.253.141 " + allRoles, "name=k8s-4 ip=192.168.253.142 " + allRoles];
    expect(loadConfig({ ...dev, nodes: [...nodes, ...four] }).warnings.map((w) => w.message)).toEqual(["4 etcd members tolerate 1 failed member, no more than 3 do: the extra member is one more machine that can fail, and the quorum grows to 3"]);
    const { error, rec } = await runProgram({ ...dev, nodes });
    expect(error).toBeUndefined();
    expect(rec.resources.length).toBeGreaterThan(0);
  });

  it("crictl far from the Kubernetes minor only warns", () => {
    const r = loadConfig({ ...dev, crictlVersion: "1.33.0", artifactChecksums: [`crictl-v1.33.0-linux-amd64.tar.gz=sha256:${"a".repeat(64)}`] });
    expect(r.errors).toEqual([]);
    expect(r.warnings[0]).toMatchObject({ key: "crictlVersion", fix: "use crictl 1.36.x" });
  });

  it("a version unknown to the catalogue passes with a checksum from config", () => {
    const digest = `sha256:${"b".repeat(64)}`;
    const r = loadConfig({ ...dev, etcdVersion: "3.6.6", artifactChecksums: [`etcd-v3.6.6-linux-amd64.tar.gz=${digest}`] });
    expect(r.errors).toEqual([]);
    expect(r.config!.artifacts.etcd).toMatchObject({ version: "3.6.6", digest, url: "https://github.com/etcd-io/etcd/releases/download/v3.6.6/etcd-v3.6.6-linux-amd64.tar.gz" });
  });

  it("existing hosts need no base image", () => {
    expect(loadConfig({ ...dev, hostMode: "existing", baseImagePath: undefined }).errors).toEqual([]);
  });
});

describe("the base image, where Pulumi runs", () => {
  it("must exist on this machine when the program runs (it is uploaded from here), not for the render", () => {
    const missing = "/var/lib/libvirt/images/no-such-image.qcow2";
    const r = loadConfig({ ...dev, baseImagePath: missing }, runEnv);
    expect(r.config).toBeUndefined();
    expect(r.errors.map((e) => `${e.key}: ${e.message}`)).toEqual([`baseImagePath: ${missing} does not exist on this machine, which uploads it into the pool`]);
    expect(r.errors[0].fix).toContain("SHA512SUMS");
    // the render (and anything that only plans) does not need it
    expect(loadConfig({ ...dev, baseImagePath: missing }).config).toBeDefined();
    // the program's own config step checks it (where Pulumi runs it), with its key and fix
    pulumi.runtime.setAllConfig(engineConfig({ ...dev, baseImagePath: missing }));
    try {
      expect(() => loadStackConfig(new pulumi.Config(PROJECT))).toThrow(`error: baseImagePath: ${missing} does not exist on this machine`);
    } finally {
      pulumi.runtime.setAllConfig({});
    }
    // and an image that is there passes
    const here = path.join(os.tmpdir(), "k8s-lab-test-image.qcow2");
    fs.writeFileSync(here, "");
    try {
      expect(loadConfig({ ...dev, baseImagePath: here }, runEnv).errors).toEqual([]);
    } finally {
      fs.rmSync(here);
    }
  });
});

describe("derived values", () => {
  it("derives the kubernetes service IP and the cluster DNS IP from the service CIDR", () => {
    const c = loadConfig({ ...dev, serviceCidr: "10.32.0.0/16" }).config!;
    expect(c.network.kubernetesServiceIp).toBe("10.32.0.1");
    expect(c.network.clusterDnsIp).toBe("10.32.0.10");
  });

  it("computes NO_PROXY and merges the user's entries without duplicates", () => {
    const c = loadConfig({ ...dev, httpProxy: "http://proxy.lab:3128", noProxy: ["registry.lab", "localhost", ".corp"] }).config!;
    expect(c.proxy).toBeDefined();
    expect(c.proxy!.https).toBe("http://proxy.lab:3128");
    const expected = [
      "localhost", "127.0.0.1", "192.168.253.0/24", "10.244.0.0/16", "10.96.0.0/12",
      "k8s-1", "k8s-2", "k8s-3", "192.168.253.140", ".svc", ".cluster.local", "registry.lab", ".corp",
    ];
    for (const e of expected) expect(c.proxy!.noProxy).toContain(e);
    expect(new Set(c.proxy!.noProxy).size).toBe(c.proxy!.noProxy.length);
    expect(c.proxy!.noProxy.slice(0, computedNoProxy(c).length)).toEqual(computedNoProxy(c));
  });

  it("sets no proxy at all when none is configured", () => {
    expect(loadConfig(dev).config!.proxy).toBeUndefined();
  });
});

describe("air-gapped artifacts", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "artifacts-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("names each missing file and where it is expected", async () => {
    fs.writeFileSync(path.join(dir, "runc.amd64"), "");
    const { error, rec } = await runProgram({ ...dev, artifactDir: dir });
    const lines = (error as Error).message.split("\n").slice(1);
    expect(lines).toContain(
      `error: artifactDir: air-gapped install: etcd 3.6.14 is missing; expected ${path.join(dir, "etcd-v3.6.14-linux-amd64.tar.gz")}; fix: copy etcd-v3.6.14-linux-amd64.tar.gz (from https://github.com/etcd-io/etcd/releases/download/v3.6.14/etcd-v3.6.14-linux-amd64.tar.gz) into ${dir}`,
    );
    expect(lines.some((l) => l.includes("runc.amd64 is missing"))).toBe(false);
    expect(lines).toHaveLength(Object.keys(CATALOG).length - 1);
    expect(rec.resources).toHaveLength(0);
  });

  it("passes when every file is there", () => {
    const c = loadConfig(dev).config!;
    for (const a of Object.values(c.artifacts)) fs.writeFileSync(path.join(dir, a!.fileName), "");
    expect(loadConfig({ ...dev, artifactDir: dir }).errors).toEqual([]);
  });
});

describe("config as the engine gives it", () => {
  // `pulumi config set nodeMemoryMiB 4096` writes "4096" into the stack file; the engine hands
  // the program strings either way, so the render must read a Pulumi-written file the same way.
  const written = { ...dev, nodeMemoryMiB: "4096", controlPlaneTaint: "true", kubeletMaxPods: "90" };

  it("decodes quoted numbers and booleans as the program does", () => {
    const r = loadConfig(valuesAsEngineGives(written));
    expect(r.errors).toEqual([]);
    expect(r.config!.nodes[0].memoryMiB).toBe(4096);
    expect(r.config!.controlPlaneTaint).toBe(true);
    expect(r.config!.kubelet.maxPods).toBe(90);
  });

  it("gives the program and the render the same model", async () => {
    const res = await runProgram(written);
    expect(res.error).toBeUndefined();
    const domain = res.rec.named("domain-k8s-1", "command:local:Command");
    expect(domain.inputs.stdin).toContain("<memory unit=\"MiB\">4096</memory>");
    expect(loadConfig(valuesAsEngineGives(written)).config!.nodes[0].memoryMiB).toBe(4096);
  });
});

describe("each key declared once (config/keys.ts)", () => {
  it("gives the schema, the catalogue and Pulumi.yaml the same keys", () => {
    const schemaKeys = Object.keys(rawSchema.shape).sort();
    expect(schemaKeys.length).toBeGreaterThan(50);
    expect(KEYS.map((k) => k.key).sort()).toEqual(schemaKeys);
    const declared = Object.keys(YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).config).sort();
    expect(declared).toEqual(KEYS.filter((k) => k.default !== undefined).map((k) => k.key).sort());
  });

  it("has every default accepted by its own schema, and a key is optional exactly when it has no default", () => {
    for (const k of KEYS) {
      const field = rawSchema.shape[k.key as keyof typeof rawSchema.shape];
      expect({ key: k.key, optional: field.safeParse(undefined).success }).toEqual({ key: k.key, optional: k.default === undefined });
      if (k.default !== undefined) expect({ key: k.key, ok: field.safeParse(k.default).success }).toEqual({ key: k.key, ok: true });
    }
  });

  it("reads each key with the Pulumi type its schema takes", () => {
    const typeOf = Object.fromEntries(KEYS.map((k) => [k.key, k.type]));
    expect(typeOf).toMatchObject({ nodeVcpu: "integer", pkiRsaBits: "integer", cni: "string", nodes: "array", dashboard: "boolean", sshPrivateKey: "string" });
    // a number given for a string key (or the reverse) is the schema's error, naming the key
    expect(loadConfig({ ...dev, kubeletMaxPods: "110" }).errors[0].key).toBe("kubeletMaxPods");
  });
});
