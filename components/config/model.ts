// The typed cluster model: the one source of truth every layer plans from — its shape
// (DraftConfig as derived, ClusterConfig once checked; NodeSpec), the Problem a check reports, and the questions every layer
// asks of it (which nodes have a role, which run a kubelet). Built by config/derive from
// the checked raw values. Pure. Depends on: versions (artifact and image names), network (Cidr).
import type { ArtifactName, ArtifactSpec, ComponentName, ImageName } from "./versions";
import type { Cidr } from "./network";
import type { Stage } from "./stages";
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
  /** The hypervisor its machine runs on (host=); unset: the first one. */
  host?: string;
}

/** One libvirt host of the lab (a `hypervisors` entry, or the one host of libvirtUri). */
export interface HypervisorSpec {
  /** Part of the names of its libvirt objects' resources (but the first host's). */
  name: string;
  uri: string;
  /** Where the other hosts reach it: the end of the tunnel between the hosts' node networks. */
  address?: string;
  /** Position in the `hypervisors` list, for messages; -1 for the host of libvirtUri. */
  index: number;
}

/**
 * The model as derived from the config keys, before preflight proved it sound: what the
 * checks read. Its network values may not parse yet; it may lack a control-plane node.
 */
export interface DraftConfig {
  name: string;
  domain: string;
  /** Each component's release (the config keys of COMPONENTS). */
  versions: Record<ComponentName, string>;
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
    /** The local proxy on every node: nginx (passive checks) or haproxy (active /readyz checks). */
    localProxy: "nginx" | "haproxy";
    kubeProxyMode: "iptables" | "nftables";
    extraApiserverSans: string[];
    /** The admin endpoint as configured (HOST or HOST:PORT); unset: the first control-plane node. */
    apiserverEndpoint?: { host: string; port: number };
  };
  /** privateKeyGiven: sshPrivateKey is set (its value is read as a secret by the program, never held here). */
  ssh: { user: string; publicKey?: string; privateKeyGiven: boolean };
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
  /**
   * The libvirt hosts, the first one first: it carries the node network's gateway, DHCP and
   * DNS; with several, a tunnel joins the hosts' bridges into one node network. One entry
   * (named "default", libvirtUri) unless the hypervisors key lists them.
   */
  hypervisors: HypervisorSpec[];
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
    /** pkiRotation: a change re-issues every leaf. */
    rotation: string;
  };
  /** Scheduled etcd snapshots on every member; absent when switched off. */
  etcdSnapshots?: { schedule: string; retention: number };
  /** etcdRejoin: members to take out of etcd and add back with an empty data directory in this up. */
  etcdRejoin: string[];
  /** rebuildNodes: lab nodes whose machine is made again from the base image in this up (their etcd members rejoin). */
  rebuildNodes: string[];
  /** lostMachines: existing machines that are gone; their steps (and the objects, when the admin endpoint is one) are forgotten, not undone, when they go. */
  lostMachines: string[];
  wipeDataOnDestroy: boolean;
  /** The last layer this `up` stands up (upTo): a lab built one layer at a time. */
  upTo: Stage;
}

/** The checked model every layer plans from: the draft, with the values preflight proved parsed once. */
export interface ClusterConfig extends DraftConfig {
  network: DraftConfig["network"] & {
    /** nodeCidr, podCidr and serviceCidr, parsed. */
    cidrs: { node: Cidr; pod: Cidr; service: Cidr };
  };
  /**
   * The first control-plane node: the admin kubeconfig lives there, and the cluster-wide
   * steps (admin-access, every node's membership and upgrade drain, nodes-registered) run there.
   */
  adminNode: NodeSpec;
}

/** One finding of preflight: the key it concerns, what is wrong, and how to fix it. */
export interface Problem {
  severity: "error" | "warning";
  key: string;
  message: string;
  fix: string;
}

/** An error about `key`: what is wrong and how to fix it (every preflight rule's shape). */
export const errorAt = (key: string, message: string, fix: string): Problem => ({ severity: "error", key, message, fix });
/** A warning about `key`: the up goes on. */
export const warningAt = (key: string, message: string, fix: string): Problem => ({ severity: "warning", key, message, fix });

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

/** The lab network's DNS domain (lab VMs): every node answers as `<node>.<domain>` there. */
export function labDnsDomain(c: Pick<ClusterConfig, "name">): string {
  return `${c.name}.lab`;
}

/**
 * apiserverEndpoint when the lab network's DNS answers it: a name in the lab's own domain
 * (e.g. `api.k8s-lab.lab`) on lab VMs. libvirt's DNS then gives that name every control-plane
 * node's address, and clients (Go's, as kubectl and the Pulumi provider) try each in turn:
 * admin access that survives any one apiserver down, with no VIP or load balancer.
 */
export function labApiserverName(c: Pick<DraftConfig, "name" | "network" | "hypervisor">): string | undefined {
  const host = c.network.apiserverEndpoint?.host;
  return c.hypervisor.mode === "libvirt" && host?.endsWith(`.${labDnsDomain(c)}`) ? host : undefined;
}
