// The typed cluster model: the one source of truth every layer plans from.
// Owns: the shape of the model, the raw-value schema (zod) and the derivation of every
// computed value (service IPs, NO_PROXY, artifacts). Depends on: keys, versions, network.
import { z } from "zod";
import { KEYS, KeySpec } from "./keys";
import { ArtifactName, ArtifactSpec, CATALOG, DEFAULT_IMAGES, ImageName, resolveArtifact } from "./versions";
import { Cidr, nthAddress, parseCidr } from "./network";
import type { ImageArchive } from "./image-archives";

export type Role = "etcd" | "control-plane" | "worker";
export const ROLES: readonly Role[] = ["etcd", "control-plane", "worker"];

export interface NodeSpec {
  /** Hostname and Kubernetes node name (a DNS-1123 label). */
  name: string;
  /** Static IPv4 address in the node network. */
  ip: string;
  /** What the node runs. */
  roles: ReadonlySet<Role>;
  vcpu: number;
  memoryMiB: number;
  diskGiB: number;
  /** Fixed MAC of the node's NIC (libvirt DHCP host entry); derived from the IP unless given. */
  mac: string;
  /** Position in the `nodes` list, for messages (`nodes[i]`). */
  index: number;
}

export interface ClusterConfig {
  name: string;
  domain: string;
  versions: {
    kubernetes: string;
    etcd: string;
    containerd: string;
    runc: string;
    crictl: string;
    cniPlugins: string;
  };
  /** Every release artifact with URL and digest; absent when no digest is known (preflight error). */
  artifacts: Partial<Record<ArtifactName, ArtifactSpec>>;
  nodes: NodeSpec[];
  controlPlaneTaint: boolean;
  kubelet: { maxPods: number };
  network: {
    nodeCidr: string;
    podCidr: string;
    serviceCidr: string;
    /** First host of the node network: the libvirt NAT gateway. */
    gateway: string;
    kubernetesServiceIp: string;
    clusterDnsIp: string;
    apiserverPort: number;
    localProxyPort: number;
    kubeProxyMode: "iptables" | "nftables";
    extraApiserverSans: string[];
    /** The admin endpoint as configured (HOST or HOST:PORT); unset: the first control-plane node. */
    apiserverEndpoint?: { host: string; port: number };
  };
  ssh: { user: string; publicKey?: string; privateKeyFromConfig: boolean };
  hypervisor: {
    mode: "libvirt" | "existing";
    uri: string;
    domainType: "kvm" | "qemu";
    pool: string;
    poolPath: string;
    baseImage: { url: string; checksum: string } | { path: string } | undefined;
    imageFamily: "debian" | "rhel";
    skipPackageInstall: boolean;
  };
  /** Proxy settings; noProxy is the merged, computed list. */
  proxy?: { http?: string; https?: string; noProxy: string[] };
  downloads: { mirror?: string; artifactDir?: string };
  registry: {
    mirrors: Record<string, string>;
    pauseImage: string;
    /** imageArchiveDir, when set; its archives are read by loadConfig (preflight). */
    archiveDir?: string;
    archives: ImageArchive[];
  };
  images: Record<ImageName, string>;
  addons: {
    cni: "weave" | "flannel" | "bridge";
    coredns: boolean;
    dashboard: boolean;
    headlamp: boolean;
    dashboardLoginRole: "view" | "cluster-admin";
  };
  pki: {
    algorithm: "ECDSA" | "RSA";
    rsaBits: number;
    caValidityHours: number;
    certValidityHours: number;
    earlyRenewalHours: number;
    separateEtcdCa: boolean;
  };
  wipeDataOnDestroy: boolean;
}

/** One finding of preflight: the key it concerns, what is wrong, and how to fix it. */
export interface Problem {
  severity: "error" | "warning";
  key: string;
  message: string;
  fix: string;
}

// ---- raw values ----------------------------------------------------------------

const str = z.string().trim().min(1);
const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** Schema of the raw key values, after defaults are applied. */
export const rawSchema = z.object({
  clusterName: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/, "must be a DNS-1123 label of at most 32 characters (lowercase letters, digits, '-')"),
  clusterDomain: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "must be a lowercase DNS domain such as cluster.local"),
  kubernetesVersion: str,
  etcdVersion: str,
  containerdVersion: str,
  runcVersion: str,
  crictlVersion: str,
  cniPluginsVersion: str,
  artifactChecksums: z.array(z.string()),
  nodes: z.array(z.string()),
  nodeVcpu: int(1, 256),
  nodeMemoryMiB: int(128, 1 << 22),
  nodeDiskGiB: int(1, 65536),
  controlPlaneTaint: z.boolean(),
  kubeletMaxPods: int(10, 1000),
  nodeCidr: str,
  podCidr: str,
  serviceCidr: str,
  kubernetesServiceIp: str.optional(),
  clusterDnsIp: str.optional(),
  apiserverPort: int(1, 65535),
  localProxyPort: int(1, 65535),
  kubeProxyMode: z.enum(["iptables", "nftables"]),
  extraApiserverSans: z.array(str),
  apiserverEndpoint: str.optional(),
  sshUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a POSIX user name (lowercase letters, digits, '_' and '-')"),
  sshPublicKey: str.optional(),
  sshPrivateKey: z.boolean().optional(),
  hostMode: z.enum(["libvirt", "existing"]),
  libvirtUri: str,
  domainType: z.enum(["kvm", "qemu"]),
  storagePool: z.string().regex(/^[A-Za-z0-9_.-]+$/, "must be letters, digits, '.', '_' or '-'"),
  storagePoolPath: z.string().regex(/^\//, "must be an absolute path"),
  baseImageUrl: z.string().url().optional(),
  baseImageChecksum: str.optional(),
  baseImagePath: z.string().regex(/^\//, "must be an absolute path").optional(),
  baseImageFamily: z.enum(["debian", "rhel"]),
  skipPackageInstall: z.boolean(),
  httpProxy: z.string().url().optional(),
  httpsProxy: z.string().url().optional(),
  noProxy: z.array(str),
  downloadMirror: z.string().url().optional(),
  artifactDir: str.optional(),
  registryMirrors: z.array(z.string()),
  imageOverrides: z.array(z.string()),
  imageArchiveDir: str.optional(),
  pauseImage: str,
  cni: z.enum(["weave", "flannel", "bridge"]),
  coredns: z.boolean(),
  dashboard: z.boolean(),
  headlamp: z.boolean(),
  dashboardLoginRole: z.enum(["view", "cluster-admin"]),
  pkiKeyAlgorithm: z.enum(["ECDSA", "RSA"]),
  pkiRsaBits: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]),
  caValidityHours: int(24, 24 * 365 * 30),
  certValidityHours: int(24, 24 * 365 * 10),
  certEarlyRenewalHours: int(0, 24 * 365),
  separateEtcdCa: z.boolean(),
  wipeDataOnDestroy: z.boolean(),
});
export type RawConfig = z.infer<typeof rawSchema>;

/** Fills in defaults from the key catalogue. Unknown keys are reported, not ignored. */
export function withDefaults(values: Record<string, unknown>): { merged: Record<string, unknown>; problems: Problem[] } {
  const merged: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const k of KEYS) {
    const v = values[k.key];
    merged[k.key] = v === undefined || v === null ? k.default : v;
  }
  for (const key of Object.keys(values)) {
    if (!KEYS.some((k) => k.key === key)) {
      problems.push({
        severity: "error",
        key,
        message: "is not a configuration key of this program",
        fix: `remove it (pulumi config rm ${key}), or check its spelling against Pulumi.yaml`,
      });
    }
  }
  return { merged, problems };
}

function describeType(k: KeySpec | undefined): string {
  if (!k) return "a valid value";
  if (k.type === "array") return "a list of strings";
  return `a ${k.type}`;
}

/** Checks raw values against the schema; one problem per bad key. */
export function parseRaw(values: Record<string, unknown>): { raw?: RawConfig; problems: Problem[] } {
  const { merged, problems } = withDefaults(values);
  const res = rawSchema.safeParse(merged);
  if (res.success) return { raw: res.data, problems };
  for (const issue of res.error.issues) {
    const key = String(issue.path[0] ?? "config");
    const spec = KEYS.find((k) => k.key === key);
    const where = issue.path.length > 1 ? `${key}[${issue.path.slice(1).join("].[")}]` : key;
    problems.push({
      severity: "error",
      key: where,
      message: `${issue.message} (got ${JSON.stringify(merged[key])})`,
      fix: `set it to ${describeType(spec)}: ${spec?.description ?? ""}`.trim(),
    });
  }
  return { problems };
}

// ---- node specs ----------------------------------------------------------------

const NODE_FIELDS = ["name", "ip", "roles", "vcpu", "memoryMiB", "diskGiB", "mac"] as const;

/** A MAC in the QEMU/KVM locally administered range 52:54:00, derived from the node IP. */
export function macForIp(ip: string): string {
  const [, b, c, d] = ip.split(".").map((x) => Number(x));
  return ["52", "54", "00", b, c, d].map((x) => (typeof x === "number" ? x.toString(16).padStart(2, "0") : x)).join(":");
}

/** 'HOST' or 'HOST:PORT' (port defaults to the apiserver's); the host is checked in preflight. */
export function splitHostPort(s: string, defaultPort: number): { host: string; port: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(s.trim())!;
  return { host: m[1].toLowerCase(), port: m[2] === undefined ? defaultPort : Number(m[2]) };
}

/** Parses one `nodes` entry ('name=k8s-1 ip=... roles=a,b'). Shape only; rules run later. */
export function parseNodeSpec(
  text: string,
  index: number,
  defaults: { vcpu: number; memoryMiB: number; diskGiB: number },
): { node?: NodeSpec; problems: Problem[] } {
  const key = `nodes[${index}]`;
  const problems: Problem[] = [];
  const fields: Record<string, string> = {};
  for (const part of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = part.indexOf("=");
    const field = eq > 0 ? part.slice(0, eq) : "";
    if (!(NODE_FIELDS as readonly string[]).includes(field)) {
      problems.push({
        severity: "error",
        key,
        message: `'${part}' is not a node field`,
        fix: `write fields as FIELD=VALUE with FIELD one of ${NODE_FIELDS.join(", ")}, e.g. 'name=k8s-1 ip=192.168.253.140 roles=etcd,control-plane,worker'`,
      });
      continue;
    }
    fields[field] = part.slice(eq + 1);
  }
  for (const required of ["name", "ip", "roles"]) {
    if (!fields[required]) {
      problems.push({ severity: "error", key, message: `has no ${required}=`, fix: `add ${required}=... to the entry '${text}'` });
    }
  }
  const roles = new Set<Role>();
  for (const r of (fields.roles ?? "").split(",").filter(Boolean)) {
    if ((ROLES as readonly string[]).includes(r)) roles.add(r as Role);
    else problems.push({ severity: "error", key, message: `role '${r}' is unknown`, fix: `use roles from: ${ROLES.join(", ")}` });
  }
  const num = (f: "vcpu" | "memoryMiB" | "diskGiB", dflt: number): number => {
    const v = fields[f];
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < 1) {
      problems.push({ severity: "error", key, message: `${f}=${v} is not a positive whole number`, fix: `write ${f}=N, e.g. ${f}=${dflt}` });
      return dflt;
    }
    return Number(v);
  };
  const vcpu = num("vcpu", defaults.vcpu);
  const memoryMiB = num("memoryMiB", defaults.memoryMiB);
  const diskGiB = num("diskGiB", defaults.diskGiB);
  if (fields.mac !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(fields.mac)) {
    problems.push({ severity: "error", key, message: `mac=${fields.mac} is not a lowercase MAC address`, fix: "write mac=52:54:00:xx:xx:xx, or leave it out to derive one from the IP" });
  }
  if (problems.length > 0 || !fields.name || !fields.ip) return { problems };
  const ipOk = /^\d+\.\d+\.\d+\.\d+$/.test(fields.ip);
  return {
    node: {
      name: fields.name,
      ip: fields.ip,
      roles,
      vcpu,
      memoryMiB,
      diskGiB,
      mac: fields.mac ?? (ipOk ? macForIp(fields.ip) : "52:54:00:00:00:00"),
      index,
    },
    problems,
  };
}

// ---- derivation ----------------------------------------------------------------

function parseAssignments(list: string[], key: string, what: string, example: string, problems: Problem[]): Record<string, string> {
  const out: Record<string, string> = {};
  list.forEach((item, i) => {
    const eq = item.indexOf("=");
    if (eq <= 0 || eq === item.length - 1) {
      problems.push({ severity: "error", key: `${key}[${i}]`, message: `'${item}' is not ${what}`, fix: `write it as ${example}` });
      return;
    }
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  });
  return out;
}

/** NO_PROXY entries the cluster needs so that no in-cluster traffic goes to the proxy. */
export function computedNoProxy(c: Pick<ClusterConfig, "nodes" | "network" | "domain">): string[] {
  return [
    "localhost",
    "127.0.0.1",
    "::1",
    c.network.nodeCidr,
    c.network.podCidr,
    c.network.serviceCidr,
    ...c.nodes.map((n) => n.name),
    ...c.nodes.map((n) => n.ip),
    ".svc",
    `.${c.domain}`,
  ];
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/**
 * Builds the model from schema-checked raw values. Network values that do not parse are
 * carried as given; preflight reports them. Never throws.
 */
export function deriveModel(raw: RawConfig): { config: ClusterConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const nodes: NodeSpec[] = [];
  raw.nodes.forEach((text, i) => {
    const r = parseNodeSpec(text, i, { vcpu: raw.nodeVcpu, memoryMiB: raw.nodeMemoryMiB, diskGiB: raw.nodeDiskGiB });
    problems.push(...r.problems);
    if (r.node) nodes.push(r.node);
  });

  const serviceCidr: Cidr | undefined = parseCidr(raw.serviceCidr);
  const nodeCidr: Cidr | undefined = parseCidr(raw.nodeCidr);
  const firstService = serviceCidr && serviceCidr.size > 2 ? nthAddress(serviceCidr, 1) : "";
  const tenthService = serviceCidr && serviceCidr.size > 11 ? nthAddress(serviceCidr, 10) : "";

  const extraDigests = parseAssignments(raw.artifactChecksums, "artifactChecksums", "FILE=DIGEST", "'etcd-v3.6.6-linux-amd64.tar.gz=sha256:<64 hex digits>'", problems);
  const versionOf: Record<ArtifactName, string> = {
    "kubernetes-server": raw.kubernetesVersion,
    "kubernetes-node": raw.kubernetesVersion,
    etcd: raw.etcdVersion,
    containerd: raw.containerdVersion,
    runc: raw.runcVersion,
    crictl: raw.crictlVersion,
    "cni-plugins": raw.cniPluginsVersion,
  };
  const artifacts: Partial<Record<ArtifactName, ArtifactSpec>> = {};
  for (const name of Object.keys(CATALOG) as ArtifactName[]) {
    const a = resolveArtifact(name, versionOf[name], extraDigests);
    if (a) artifacts[name] = a;
  }

  const registryMirrors = parseAssignments(raw.registryMirrors, "registryMirrors", "REGISTRY=URL", "'registry.k8s.io=https://mirror.lab:5000'", problems);
  const overrides = parseAssignments(raw.imageOverrides, "imageOverrides", "NAME=IMAGE", "'coredns=registry.lab/coredns/coredns:v1.14.2'", problems);
  const images: Record<ImageName, string> = { ...DEFAULT_IMAGES };
  for (const [name, image] of Object.entries(overrides)) {
    if (name in images) images[name as ImageName] = image;
    else problems.push({ severity: "error", key: "imageOverrides", message: `'${name}' is not an image name`, fix: `use one of ${Object.keys(DEFAULT_IMAGES).join(", ")}` });
  }

  const config: ClusterConfig = {
    name: raw.clusterName,
    domain: raw.clusterDomain,
    versions: {
      kubernetes: raw.kubernetesVersion,
      etcd: raw.etcdVersion,
      containerd: raw.containerdVersion,
      runc: raw.runcVersion,
      crictl: raw.crictlVersion,
      cniPlugins: raw.cniPluginsVersion,
    },
    artifacts,
    nodes,
    controlPlaneTaint: raw.controlPlaneTaint,
    kubelet: { maxPods: raw.kubeletMaxPods },
    network: {
      nodeCidr: nodeCidr?.text ?? raw.nodeCidr,
      podCidr: parseCidr(raw.podCidr)?.text ?? raw.podCidr,
      serviceCidr: serviceCidr?.text ?? raw.serviceCidr,
      gateway: nodeCidr && nodeCidr.size > 2 ? nthAddress(nodeCidr, 1) : "",
      kubernetesServiceIp: raw.kubernetesServiceIp ?? firstService,
      clusterDnsIp: raw.clusterDnsIp ?? tenthService,
      apiserverPort: raw.apiserverPort,
      localProxyPort: raw.localProxyPort,
      kubeProxyMode: raw.kubeProxyMode,
      extraApiserverSans: raw.extraApiserverSans,
      apiserverEndpoint: raw.apiserverEndpoint === undefined ? undefined : splitHostPort(raw.apiserverEndpoint, raw.apiserverPort),
    },
    ssh: { user: raw.sshUser, publicKey: raw.sshPublicKey, privateKeyFromConfig: raw.sshPrivateKey === true },
    hypervisor: {
      mode: raw.hostMode,
      uri: raw.libvirtUri,
      domainType: raw.domainType,
      pool: raw.storagePool,
      poolPath: raw.storagePoolPath,
      baseImage: raw.baseImagePath
        ? { path: raw.baseImagePath }
        : raw.baseImageUrl
          ? { url: raw.baseImageUrl, checksum: raw.baseImageChecksum ?? "" }
          : undefined,
      skipPackageInstall: raw.skipPackageInstall,
      imageFamily: raw.baseImageFamily,
    },
    downloads: { mirror: raw.downloadMirror?.replace(/\/+$/, ""), artifactDir: raw.artifactDir },
    registry: { mirrors: registryMirrors, pauseImage: raw.pauseImage, archiveDir: raw.imageArchiveDir, archives: [] },
    images,
    addons: {
      cni: raw.cni,
      coredns: raw.coredns,
      dashboard: raw.dashboard,
      headlamp: raw.headlamp,
      dashboardLoginRole: raw.dashboardLoginRole,
    },
    pki: {
      algorithm: raw.pkiKeyAlgorithm,
      rsaBits: raw.pkiRsaBits,
      caValidityHours: raw.caValidityHours,
      certValidityHours: raw.certValidityHours,
      earlyRenewalHours: raw.certEarlyRenewalHours,
      separateEtcdCa: raw.separateEtcdCa,
    },
    wipeDataOnDestroy: raw.wipeDataOnDestroy,
  };
  const http = raw.httpProxy;
  const https = raw.httpsProxy ?? raw.httpProxy;
  if (http || https) {
    config.proxy = { http, https, noProxy: uniq([...computedNoProxy(config), ...raw.noProxy]) };
  }
  return { config, problems };
}

/** Nodes with a role, in config order. */
export function nodesWith(c: Pick<ClusterConfig, "nodes">, role: Role): NodeSpec[] {
  return c.nodes.filter((n) => n.roles.has(role));
}

/**
 * Whether a node runs a kubelet, kube-proxy, containerd and the pod network: every worker
 * and, as kubeadm does, every control-plane node (tainted NoSchedule when it is not also a
 * worker) — its apiserver reaches aggregated APIs and webhooks through pod and service IPs.
 */
export function runsKubelet(n: NodeSpec): boolean {
  return n.roles.has("worker") || n.roles.has("control-plane");
}

/** The nodes that run a kubelet (runsKubelet). */
export function kubeletNodes(c: Pick<ClusterConfig, "nodes">): NodeSpec[] {
  return c.nodes.filter(runsKubelet);
}
