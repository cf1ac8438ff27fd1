// Upstream is the judge: every component config the plan renders is decoded by the pinned
// release's own Go types and loaders, strictly, and validated by upstream's own code
// (test/upstream/{kubernetes,etcd,containerd}); every flag in every rendered unit must be
// one the pinned binary itself lists in its --help, and not one it marks deprecated
// (test/upstream/flags/, from `npm run fixtures:flags`). Several stacks are judged: the
// dev stack with real test certificates, and variants that switch on the optional paths.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ClusterConfig, contains, kubeletNodes, loadConfig, parseCidr } from "../../components/config";
import { renderTree } from "../../components/render";
import { encryptionConfig } from "../../components/control-plane/plan";
import { stackConfig, ROOT, SPLIT_ROLE_NODES } from "../harness";
import { execStartWords, tmpdir } from "../tools";
import { FlagFixture, fixtureFile } from "../upstream/help";

const JUDGES = path.join(ROOT, "test/upstream/.bin");
const FLAGS = path.join(ROOT, "test/upstream/flags");
const dev = stackConfig("dev");

/** The stacks judged: each switches on paths the others leave off. */
export const VARIANTS: Record<string, Record<string, unknown>> = {
  dev: {},
  "flannel, nftables, proxy, mirrors, emulated guests": {
    cni: "flannel",
    domainType: "qemu", // the longer leader election of emulated guests
    kubeProxyMode: "nftables",
    httpProxy: "http://proxy.lab:3128",
    registryMirrors: ["registry.k8s.io=https://mirror.lab:5000", "docker.io=https://mirror.lab:5001"],
  },
  "control-plane-only nodes, bridge CNI": {
    cni: "bridge",
    nodes: SPLIT_ROLE_NODES,
  },
};

const config = (v: Record<string, unknown>): ClusterConfig => {
  const r = loadConfig({ ...dev, ...v });
  if (!r.config) throw new Error(JSON.stringify(r.errors));
  return r.config;
};

type Judge = "kubernetes" | "etcd" | "containerd";
interface Verdict { path: string; error: string; kind?: string; [k: string]: unknown }

function judge(which: Judge, args: string[]): Verdict[] {
  const bin = path.join(JUDGES, `${which}-judge`);
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: build the upstream judges with 'bash test/upstream/build.sh' (npm test does)`);
  const out = execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 << 20 });
  return out.trim().split("\n").map((l) => JSON.parse(l) as Verdict);
}

/** What kind of file this is, by its content: the judge and its argument. */
export function classify(file: string, text: string): { judge: Judge; kind?: string } | undefined {
  if (file.endsWith(".toml") && /^\s*version\s*=\s*\d/m.test(text) && file.includes("/containerd/")) return { judge: "containerd" };
  if (!/\.(ya?ml|conf)$/.test(file)) return undefined;
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) return undefined;
  const d = doc as Record<string, unknown>;
  if ("initial-cluster" in d || "listen-peer-urls" in d) return { judge: "etcd" };
  const kinds: Record<string, string> = {
    KubeletConfiguration: "kubelet-config",
    KubeProxyConfiguration: "kube-proxy-config",
    KubeSchedulerConfiguration: "kube-scheduler-config",
    EncryptionConfiguration: "encryption-config",
    Policy: "audit-policy",
    Config: "kubeconfig",
  };
  const kind = kinds[String(d.kind)];
  return kind ? { judge: "kubernetes", kind } : undefined;
}

/** Writes the node files of a render under dir; returns what each judge gets. */
function judgeTree(tree: Map<string, string>, dir: string): { verdicts: Verdict[]; judged: Record<string, number> } {
  const byJudge: Record<Judge, string[]> = { kubernetes: [], etcd: [], containerd: [] };
  const judged: Record<string, number> = {};
  for (const [rel, text] of tree) {
    if (!rel.startsWith("nodes/")) continue;
    const c = classify(rel, text);
    if (!c) continue;
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    byJudge[c.judge].push(c.kind ? `${c.kind}=${file}` : file);
    judged[c.kind ?? c.judge] = (judged[c.kind ?? c.judge] ?? 0) + 1;
  }
  const verdicts = (Object.keys(byJudge) as Judge[]).flatMap((j) => (byJudge[j].length ? judge(j, byJudge[j]) : []));
  return { verdicts: verdicts.map((v) => ({ ...v, path: path.relative(dir, v.path) })), judged };
}

const rejected = (vs: Verdict[]) => vs.filter((v) => v.error !== "").map((v) => `${v.path}: ${v.error}`);

/** The flags of each unit that runs a binary we have a fixture family for. */
export function unitFlags(tree: Map<string, string>): { file: string; binary: string; flags: string[] }[] {
  const out: { file: string; binary: string; flags: string[] }[] = [];
  for (const [rel, text] of tree) {
    if (!rel.startsWith("nodes/") || !rel.endsWith(".service")) continue;
    const words = execStartWords(text);
    if (!words) continue;
    const binary = path.basename(words[0]);
    out.push({ file: rel, binary, flags: words.slice(1).filter((w) => w.startsWith("-")).map((w) => w.replace(/^--?/, "").split("=")[0]) });
  }
  return out;
}

const FLAG_BINARIES = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "etcd"];
const versionOf = (c: ClusterConfig, binary: string) => (binary === "etcd" ? c.versions.etcd : c.versions.kubernetes);

function loadFixture(binary: string, version: string): FlagFixture {
  const file = path.join(FLAGS, fixtureFile(binary, version));
  if (!fs.existsSync(file)) {
    throw new Error(`no flag fixture for ${binary} v${version} (${path.relative(ROOT, file)}): after a version bump, regenerate the fixtures from the real binaries with 'npm run fixtures:flags'`);
  }
  return JSON.parse(fs.readFileSync(file, "utf8")) as FlagFixture;
}

/** Every flag problem in a render: unknown to the binary, or deprecated by it. */
export function flagProblems(c: ClusterConfig, tree: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const u of unitFlags(tree)) {
    if (!FLAG_BINARIES.includes(u.binary)) continue;
    const fx = loadFixture(u.binary, versionOf(c, u.binary));
    for (const f of u.flags) {
      if (!fx.flags[f]) problems.push(`${u.file}: ${u.binary} v${fx.version} has no flag --${f}`);
      else if (fx.flags[f].deprecated) problems.push(`${u.file}: ${u.binary} v${fx.version} marks --${f} deprecated`);
    }
  }
  // etcd's config file keys are its flag names; the two TLS sections hold flag names too
  const etcd = loadFixture("etcd", c.versions.etcd);
  for (const [rel, text] of tree) {
    if (!rel.startsWith("nodes/") || classify(rel, text)?.judge !== "etcd") continue;
    const doc = YAML.parse(text) as Record<string, unknown>;
    for (const [k, v] of Object.entries(doc)) {
      if (k === "client-transport-security" || k === "peer-transport-security") {
        for (const sub of Object.keys(v as object)) {
          const asFlag = sub === "cert-auth" ? "client-cert-auth" : sub;
          if (!etcd.flags[asFlag]) problems.push(`${rel}: etcd v${etcd.version} has no setting ${k}.${sub}`);
        }
      } else if (!etcd.flags[k]) problems.push(`${rel}: etcd v${etcd.version} has no setting ${k}`);
      else if (etcd.flags[k].deprecated) problems.push(`${rel}: etcd v${etcd.version} marks ${k} deprecated`);
    }
  }
  return problems;
}

describe("component configs, judged by the pinned releases' own Go code", () => {
  let devTree: Map<string, string>;
  let dir: string;
  beforeAll(() => {
    // the dev stack with real test certificates: the kubeconfigs and the encryption key too
    dir = tmpdir("upstream-");
    execFileSync(process.execPath, ["--require", "tsx/cjs", path.join(ROOT, "tools/render.ts"), "--stack", "dev", "--out", path.join(dir, "dev"), "--test-pki"], { cwd: ROOT, stdio: "ignore" });
    devTree = new Map();
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else devTree.set(path.relative(path.join(dir, "dev"), p), fs.readFileSync(p, "utf8"));
      }
    };
    walk(path.join(dir, "dev", "nodes"));
  }, 120_000);

  it("accepts every file of the dev stack, with real test certificates, and judges each kind on each node", () => {
    const { verdicts, judged } = judgeTree(devTree, path.join(dir, "dev-judged"));
    expect(rejected(verdicts)).toEqual([]);
    // per node: kubelet, kube-proxy, scheduler, encryption, audit, etcd, containerd, and
    // five kubeconfigs (admin, controller-manager, scheduler, kubelet, kube-proxy); and the
    // break-glass kubeconfig in admin-access on the first node
    expect(judged).toEqual({
      "kubelet-config": 3,
      "kube-proxy-config": 3,
      "kube-scheduler-config": 3,
      "encryption-config": 3,
      "audit-policy": 3,
      kubeconfig: 16,
      etcd: 3,
      containerd: 3,
    });
  });

  it("accepts every variant stack (placeholder keys: everything but the key-bearing files)", () => {
    for (const [name, v] of Object.entries(VARIANTS)) {
      const c = config(v);
      const { verdicts, judged } = judgeTree(renderTree(c), path.join(dir, name.replace(/\W+/g, "-")));
      expect({ name, rejected: rejected(verdicts) }).toEqual({ name, rejected: [] });
      // every worker and every control-plane node runs a kubelet (kubeadm's layout)
      const workers = kubeletNodes(c).length;
      const etcds = c.nodes.filter((n) => n.roles.has("etcd")).length;
      expect({ name, kubelets: judged["kubelet-config"], containerd: judged.containerd, etcd: judged.etcd }).toEqual({ name, kubelets: workers, containerd: workers, etcd: etcds });
    }
  });

  it("agrees across files as upstream reads them: cgroup driver, CRI socket, cluster DNS, etcd members", () => {
    const { verdicts } = judgeTree(devTree, path.join(dir, "dev-agree"));
    const on = (node: string, suffix: string) => verdicts.find((v) => v.path === `nodes/${node}${suffix}`)!;
    const apiserverUnit = devTree.get("nodes/k8s-1/etc/systemd/system/kube-apiserver.service")!;
    const serviceRange = /--service-cluster-ip-range=(\S+)/.exec(apiserverUnit)![1];
    const dnsService = YAML.parseAllDocuments(renderTree(config({})).get("addons/03-coredns.yaml")!).map((d) => d.toJS()).find((o) => o.kind === "Service");
    const c = config({});
    for (const n of c.nodes) {
      const kubelet = on(n.name, "/var/lib/kubelet/config.yaml").facts as Record<string, unknown>;
      const ctd = on(n.name, "/etc/containerd/config.toml");
      // the kubeadm-guide pitfall: kubelet and containerd must both drive cgroups through systemd
      expect({ node: n.name, kubelet: kubelet.cgroupDriver, runcSystemdCgroup: ctd.systemdCgroup }).toEqual({ node: n.name, kubelet: "systemd", runcSystemdCgroup: true });
      expect(kubelet.containerRuntimeEndpoint).toBe(`unix://${ctd.address}`);
      expect(kubelet.failSwapOn).toBe(true);
      // the kubelet sends pods to the DNS Service the addons create, inside the apiserver's range
      expect(kubelet.clusterDNS).toEqual([dnsService.spec.clusterIP]);
      expect(contains(parseCidr(serviceRange)!, dnsService.spec.clusterIP)).toBe(true);
    }
    const etcd = verdicts.filter((v) => v.path.endsWith("etcd.conf.yml"));
    expect(etcd.map((v) => v.name).sort()).toEqual(c.nodes.filter((n) => n.roles.has("etcd")).map((n) => n.name).sort());
    for (const v of etcd) {
      expect(String(v.initialCluster).split(",")).toHaveLength(3);
      expect([v.clientCertAuth, v.peerCertAuth]).toEqual([true, true]);
    }
  });
});

/**
 * Flags are judged on one more stack: the newest releases this program takes with digests
 * given in artifactChecksums (no published 1.37 checksum could be verified to catalogue).
 */
const digest = (ch: string) => `sha256:${ch.repeat(64)}`;
export const FLAG_VARIANTS: Record<string, Record<string, unknown>> = {
  ...VARIANTS,
  "Kubernetes 1.37.2, etcd 3.7.1": {
    kubernetesVersion: "1.37.2",
    etcdVersion: "3.7.1",
    crictlVersion: "1.37.0",
    artifactChecksums: [
      `kubernetes-server-linux-amd64.tar.gz=${digest("a")}`,
      `kubernetes-node-linux-amd64.tar.gz=${digest("b")}`,
      `etcd-v3.7.1-linux-amd64.tar.gz=${digest("c")}`,
    ],
  },
};

describe("flags, judged by the pinned binaries' own --help", () => {
  it("finds every flag of every unit in its binary's fixture, none deprecated, in every variant", () => {
    for (const [name, v] of Object.entries(FLAG_VARIANTS)) {
      const c = config(v);
      const tree = renderTree(c);
      expect({ name, problems: flagProblems(c, tree) }).toEqual({ name, problems: [] });
      // an empty render cannot pass: each binary's unit is there and has flags
      const seen = new Set(unitFlags(tree).filter((u) => u.flags.length > 0).map((u) => u.binary));
      for (const b of FLAG_BINARIES) expect({ name, b, seen: seen.has(b) }).toEqual({ name, b, seen: true });
    }
  });

  it("has a fixture for each binary at the default versions, parsed from a real --help", () => {
    const c = config({});
    for (const b of FLAG_BINARIES) {
      const fx = loadFixture(b, versionOf(c, b));
      expect(Object.keys(fx.flags).length).toBeGreaterThan(50);
    }
  });

  it("names the command that regenerates the fixtures when a version has none", () => {
    const c = config({ kubernetesVersion: "1.36.9", artifactChecksums: ["kubernetes-server-linux-amd64.tar.gz=sha256:" + "a".repeat(64), "kubernetes-node-linux-amd64.tar.gz=sha256:" + "b".repeat(64)] });
    expect(() => flagProblems(c, renderTree(c))).toThrow(/no flag fixture for kube-apiserver v1\.36\.9.*npm run fixtures:flags/);
  });
});

describe("encryption at rest, judged by the apiserver's own loader", () => {
  it("accepts the program's 32-byte secretbox key and rejects a key of another size", () => {
    const dir = tmpdir("encryption-");
    const write = (name: string, bytes: number) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, encryptionConfig(Buffer.alloc(bytes, 7).toString("base64")));
      return `encryption-config=${f}`;
    };
    const [good, short] = judge("kubernetes", [write("good.yaml", 32), write("short.yaml", 16)]);
    expect(good.error).toBe("");
    expect(short.error).toMatch(/secretbox\.keys\[0\]\.secret.*expected one of \[32\]/);
  });
});

describe("image versions, judged by kubeadm's own constants at the pinned release", () => {
  it("pins the CoreDNS and pause images kubeadm deploys with this Kubernetes, and etcd of the line it deploys", () => {
    const kubeadm = JSON.parse(execFileSync(path.join(JUDGES, "kubernetes-judge"), ["kubeadm-constants"], { encoding: "utf8" })) as Record<string, string>;
    const c = config({});
    const tag = (ref: string) => ref.split("@")[0].split(":").pop();
    const line = (v: string) => v.split(".").slice(0, 2).join(".");
    expect({ coredns: tag(c.images.coredns), pause: tag(c.registry.pauseImage), etcdLine: line(c.versions.etcd) }).toEqual({
      coredns: kubeadm.coreDNSVersion,
      pause: kubeadm.pauseVersion,
      etcdLine: line(kubeadm.etcdVersion),
    });
  });
});

describe("the checks bite: the three typos a review injected and the old suites let through", () => {
  const c = config({});
  const tree = renderTree(c);
  const edit = (suffix: string, from: RegExp, to: string) => {
    const out = new Map(tree);
    let n = 0;
    for (const [k, v] of out) {
      if (k.endsWith(suffix) && from.test(v)) {
        out.set(k, v.replace(from, to));
        n++;
      }
    }
    expect(n).toBe(3); // on each of the three nodes
    return out;
  };

  it("rejects a misspelled kube-apiserver --kubelet-certificate-authority", () => {
    const t = edit("/kube-apiserver.service", /--kubelet-certificate-authority=/, "--kubelet-certificate-authorty=");
    expect(flagProblems(c, t).filter((p) => p.includes("no flag --kubelet-certificate-authorty"))).toHaveLength(3);
  });

  it("rejects a misspelled kubelet containerRuntimeEndpoint", () => {
    const t = edit("/var/lib/kubelet/config.yaml", /^containerRuntimeEndpoint:/m, "containerRuntimeEndpont:");
    const bad = rejected(judgeTree(t, tmpdir("typo-kubelet-")).verdicts);
    expect(bad).toHaveLength(3);
    for (const b of bad) expect(b).toMatch(/unknown field "containerRuntimeEndpont"/);
  });

  it("rejects a misspelled containerd bin_dirs", () => {
    const t = edit("/etc/containerd/config.toml", /^bin_dirs =/m, "bin_dris =");
    const bad = rejected(judgeTree(t, tmpdir("typo-containerd-")).verdicts);
    expect(bad).toHaveLength(3);
    for (const b of bad) expect(b).toMatch(/unknown keys.*bin_dris/);
  });

  it("rejects a misspelled runc SystemdCgroup (the cgroup-driver pitfall) and an etcd key", () => {
    const ctd = edit("/etc/containerd/config.toml", /^SystemdCgroup =/m, "SystemdCgroups =");
    expect(rejected(judgeTree(ctd, tmpdir("typo-runc-")).verdicts)).toHaveLength(3);
    const etcd = edit("/etc/etcd/etcd.conf.yml", /^initial-cluster-token:/m, "initial-cluster-tokn:");
    expect(flagProblems(c, etcd).filter((p) => p.includes("no setting initial-cluster-tokn"))).toHaveLength(3);
  });
});
