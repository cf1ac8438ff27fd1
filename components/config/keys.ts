// The stack configuration keys, each declared once: its schema (zod), its default and its
// description. Everything else follows from this table: the Pulumi.yaml entries (type and
// default, config/project-file.ts), the raw-value schema and its TypeScript type
// (RawConfig), the defaults merged before checking, and the messages that name the key.
// Owns: the key catalogue. Pure. Depends on: zod, versions (default versions and images).
import { z } from "zod";
import { DEFAULT_IMAGES } from "./versions";
import { STAGES } from "./stages";

export type KeyType = "string" | "integer" | "boolean" | "array";

export interface KeySpec {
  key: string;
  type: KeyType;
  description: string;
  /** Default when the stack does not set the key; absent = no default (optional key). */
  default?: string | number | boolean | string[];
  /** Read with getSecret: the value is a secret end to end. */
  secret?: boolean;
}

export const DEFAULT_NODES = [
  "name=k8s-1 ip=192.168.253.140 roles=etcd,control-plane,worker",
  "name=k8s-2 ip=192.168.253.139 roles=etcd,control-plane,worker",
  "name=k8s-3 ip=192.168.253.141 roles=etcd,control-plane,worker",
];

const str = z.string().trim().min(1);
const int = (min: number, max: number) => z.number().int().min(min).max(max);

interface Declared<S extends z.ZodType> {
  schema: S;
  description: string;
  default?: z.input<S>;
  secret?: boolean;
  /** The Pulumi config type when the program reads the value differently (a secret is only "set"). */
  configType?: KeyType;
}
type KeyOptions = { secret?: boolean; configType?: KeyType };
function key<S extends z.ZodType>(schema: S, description: string, o: KeyOptions & { default: z.input<S> }): Declared<S> & { default: z.input<S> };
function key<S extends z.ZodType>(schema: S, description: string, o?: KeyOptions): Declared<S>;
function key<S extends z.ZodType>(schema: S, description: string, o: KeyOptions & { default?: z.input<S> } = {}): Declared<S> {
  return { schema, description, ...o };
}

/** Every key: `name: key(schema, description, { default })`. A key without a default is optional. */
export const CONFIG_KEYS = {
  // cluster
  clusterName: key(z.string().regex(/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/, "must be a DNS-1123 label of at most 32 characters (lowercase letters, digits, '-')"), "Name of the cluster; prefixes VM, network and kubeconfig context names. A DNS-1123 label.", { default: "k8s-lab" }),
  clusterDomain: key(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "must be a lowercase DNS domain such as cluster.local"), "Cluster DNS domain served by CoreDNS.", { default: "cluster.local" }),
  // versions
  kubernetesVersion: key(str, "Kubernetes release for every control-plane and node binary (supported: 1.34 to 1.37).", { default: "1.36.0" }),
  etcdVersion: key(str, "etcd release: 3.6 (the line kubeadm 1.36 deploys; 3.5 still accepted), or 3.7 with Kubernetes 1.37 (reached from 3.6, one minor at a time).", { default: "3.6.14" }),
  containerdVersion: key(str, "containerd release (2.x; 2.3 is the long-term line; 1.x is not supported by Kubernetes 1.36).", { default: "2.3.5" }),
  runcVersion: key(str, "runc release (the one containerd is tested with: 1.5.1 for containerd 2.3.5).", { default: "1.5.1" }),
  crictlVersion: key(str, "crictl (cri-tools) release; keep within one minor of Kubernetes.", { default: "1.36.0" }),
  cniPluginsVersion: key(str, "containernetworking/plugins release installed to /opt/cni/bin.", { default: "1.9.1" }),
  artifactChecksums: key(z.array(z.string()), "Extra checksums for versions the catalogue does not know, as 'FILE=sha256:HEX' (or sha512:HEX), e.g. 'etcd-v3.6.6-linux-amd64.tar.gz=sha256:...'.", { default: [] }),
  // nodes
  nodes: key(z.array(z.string()), "One entry per node: 'name=NAME ip=IP roles=etcd,control-plane,worker' plus optional vcpu=N memoryMiB=N diskGiB=N mac=MAC overrides, and host=NAME: the hypervisors entry its VM runs on (default: the first).", { default: DEFAULT_NODES }),
  nodeVcpu: key(int(1, 256), "Default vCPUs per node (control-plane nodes need at least 2).", { default: 2 }),
  nodeMemoryMiB: key(int(128, 1 << 22), "Default memory per node in MiB (control-plane nodes need at least 2048, every node 1024).", { default: 2048 }),
  nodeDiskGiB: key(int(1, 65536), "Default size of each node's disk overlay in GiB.", { default: 20 }),
  kubeletMaxPods: key(int(10, 1000), "Pods per node the kubelet accepts (KubeletConfiguration maxPods).", { default: 110 }),
  controlPlaneTaint: key(z.boolean(), "Taint control-plane nodes NoSchedule (off: every node also runs workloads, as in the lab guide).", { default: false }),
  // network
  nodeCidr: key(str, "Node network; the libvirt NAT network uses its first host address as gateway.", { default: "192.168.253.0/24" }),
  podCidr: key(str, "Pod network; must not overlap the node or service network and must hold a /24 per node.", { default: "10.244.0.0/16" }),
  serviceCidr: key(str, "Service cluster IP range.", { default: "10.96.0.0/12" }),
  kubernetesServiceIp: key(str, "ClusterIP of the 'kubernetes' service. Default: the first host address of serviceCidr."),
  clusterDnsIp: key(str, "ClusterIP of CoreDNS, given to every kubelet. Default: the tenth host address of serviceCidr."),
  apiserverPort: key(int(1, 65535), "Secure port of every kube-apiserver.", { default: 6443 }),
  localProxyPort: key(int(1, 65535), "Port of the local proxy on 127.0.0.1 in front of all apiservers (kubelet and kube-proxy use it).", { default: 8443 }),
  localProxy: key(z.enum(["nginx", "haproxy"]), "The local layer-4 proxy in front of all apiservers on every node: 'nginx' (the install guide's; passive checks: an apiserver that accepts connections but is not ready, as every apiserver is for minutes after its node boots, still gets requests) or 'haproxy' (active checks: GET /readyz every 2 s, 5 s on emulated guests, as kubeadm's HA guide does; a not-ready apiserver gets none while another is ready).", { default: "nginx" }),
  kubeProxyMode: key(z.enum(["iptables", "nftables"]), "kube-proxy mode: iptables or nftables (ipvs is deprecated).", { default: "iptables" }),
  apiserverEndpoint: key(str, "Where the admin kubeconfig and the addons reach the kube-apiservers: HOST or HOST:PORT of a VIP, load balancer or DNS name in front of every control-plane node (added to the apiserver certificate). On lab VMs a name in the lab's domain (e.g. api.k8s-lab.lab) is answered by the lab network's DNS with every control-plane node's address. Unset: the first control-plane node's IP, a single point of failure."),
  extraApiserverSans: key(z.array(str), "Extra DNS names or IPs for the kube-apiserver serving certificate.", { default: [] }),
  // access
  sshUser: key(z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a POSIX user name (lowercase letters, digits, '_' and '-')"), "Login user on every node, with passwordless sudo (created by cloud-init; on 'existing' hosts it must exist with NOPASSWD sudo).", { default: "k8s" }),
  sshPublicKey: key(str, "OpenSSH public key for sshUser. Default: generated by the program together with sshPrivateKey."),
  sshPrivateKey: key(z.boolean(), "Private key matching sshPublicKey (set with --secret). Default: generated.", { secret: true, configType: "string" }),
  // hypervisor
  hostMode: key(z.enum(["libvirt", "existing"]), "'libvirt': create the VMs; 'existing': use machines that already run at the node IPs.", { default: "libvirt" }),
  libvirtUri: key(str, "libvirt connection URI; qemu+ssh://user@host/system for a remote hypervisor.", { default: "qemu:///system" }),
  hypervisors: key(z.array(str), "Several libvirt hosts, one entry each: 'name=NAME uri=URI address=IP'. The first is the machine running Pulumi (uri=qemu:///system) and carries the node network's gateway, DHCP and DNS; the others are reached with qemu+ssh://USER@HOST/system (root, or passwordless sudo). A VXLAN tunnel between the addresses joins the hosts' bridges into one node network (MTU 1450). Nodes pick theirs with host=NAME. Unset: one host, libvirtUri.", { default: [] }),
  domainType: key(z.enum(["kvm", "qemu"]), "libvirt domain type: kvm, or qemu (TCG) on hosts without hardware virtualization. With hostMode: existing, qemu says the machines are emulated: etcd's raft timing, the leader leases, the apiserver wait and how long /readyz waits for etcd are the slower ones.", { default: "kvm" }),
  storagePool: key(z.string().regex(/^[A-Za-z0-9_.-]+$/, "must be letters, digits, '.', '_' or '-'"), "libvirt storage pool for the base image, overlays and seed ISOs.", { default: "k8s-lab" }),
  storagePoolPath: key(z.string().regex(/^\//, "must be an absolute path"), "Directory of the storage pool on the hypervisor.", { default: "/var/lib/libvirt/images/k8s-lab" }),
  baseImageUrl: key(z.string().url(), "Cloud image (qcow2 with cloud-init) downloaded once into the pool, pinned to a dated release. Needs baseImageChecksum."),
  baseImageChecksum: key(str, "sha256:HEX or sha512:HEX of the base image; required with baseImageUrl."),
  baseImagePath: key(z.string().regex(/^\//, "must be an absolute path"), "A qcow2 cloud image on the machine running Pulumi, uploaded once into the pool instead of downloading baseImageUrl."),
  baseImageFamily: key(z.enum(["debian", "rhel"]), "Distro family of the base image, for package names and proxy settings: debian or rhel.", { default: "debian" }),
  skipPackageInstall: key(z.boolean(), "The base image already has the node packages (air-gapped, pre-baked): cloud-init installs nothing.", { default: false }),
  // downloads and proxies
  httpProxy: key(z.string().url(), "HTTP proxy for downloads, the package manager and containerd, e.g. http://proxy.lab:3128."),
  httpsProxy: key(z.string().url(), "HTTPS proxy; defaults to httpProxy when only that is set."),
  noProxy: key(z.array(str), "Extra NO_PROXY entries; the cluster's own networks, names and domains are added automatically.", { default: [] }),
  downloadMirror: key(z.string().url(), "Base URL of a mirror laid out as <base>/<component>/v<version>/<file> (docs/configuration.md)."),
  artifactDir: key(str, "Air-gapped installs: a directory on the machine running Pulumi holding every release file, copied to the nodes over SSH."),
  registryMirrors: key(z.array(z.string()), "Container registry mirrors as 'REGISTRY=URL', e.g. 'registry.k8s.io=https://mirror.lab:5000'.", { default: [] }),
  imageOverrides: key(z.array(z.string()), "Replace addon images as 'NAME=IMAGE' (NAME: coredns, weaveKube, weaveNpc, flannel, flannelCniPlugin, dashboard, dashboardMetricsScraper, headlamp).", { default: [] }),
  imageArchiveDir: key(str, "Registry-less clusters: a directory on the machine running Pulumi with docker-archive tarballs (*.tar, e.g. from docker save); every worker imports them into containerd (digests checked), but not those holding only images of addons the cluster does not run. Every image the cluster runs must be in one, or behind registryMirrors."),
  pauseImage: key(str, "Sandbox (pause) image for containerd; pulled through registryMirrors.", { default: DEFAULT_IMAGES.pause }),
  // addons
  cni: key(z.enum(["weave", "flannel", "bridge"]), "Pod network: weave or flannel (add-ons), or bridge (the hard way: a bridge and host-local IPs per node, routes between nodes; no overlay, no images).", { default: "weave" }),
  coredns: key(z.boolean(), "Deploy CoreDNS.", { default: true }),
  dashboard: key(z.boolean(), "Deploy the Kubernetes Dashboard v2.7.0 (archived upstream).", { default: true }),
  headlamp: key(z.boolean(), "Also deploy Headlamp, a maintained Kubernetes web UI (the Dashboard project is archived).", { default: false }),
  dashboardLoginRole: key(z.enum(["view", "cluster-admin"]), "Role of the dashboard and Headlamp login accounts: view (read-only) or cluster-admin.", { default: "view" }),
  // pki
  pkiKeyAlgorithm: key(z.enum(["ECDSA", "RSA"]), "Key algorithm of every certificate: ECDSA (P-256) or RSA.", { default: "ECDSA" }),
  pkiRsaBits: key(z.union([z.literal(2048), z.literal(3072), z.literal(4096)]), "RSA key size when pkiKeyAlgorithm is RSA.", { default: 2048 }),
  caValidityHours: key(int(24, 24 * 365 * 30), "Validity of the CAs in hours (10 years).", { default: 87600 }),
  certValidityHours: key(int(24, 24 * 365 * 10), "Validity of leaf certificates in hours (1 year).", { default: 8760 }),
  certEarlyRenewalHours: key(int(0, 24 * 365), "Re-issue a leaf certificate this many hours before it expires (on the next up).", { default: 720 }),
  pkiRotation: key(z.string(), "Any text: changing it re-issues every leaf key and certificate now (the CAs stay), and the services that read them restart, one node at a time. Unset: leaves are re-issued only inside their renewal window.", { default: "" }),
  separateEtcdCa: key(z.boolean(), "Issue etcd certificates from their own CA (false: from the cluster CA).", { default: true }),
  // etcd snapshots
  etcdSnapshotSchedule: key(z.string().trim().min(1), "When each etcd member saves a snapshot, as a systemd OnCalendar expression (e.g. hourly, '*-*-* 00/6:00:00'), or 'off'.", { default: "*-*-* 00/6:00:00" }),
  etcdSnapshotRetention: key(int(1, 1000), "Scheduled snapshots kept per member (the oldest are removed).", { default: 8 }),
  rebuildNodes: key(z.array(str), "lab nodes whose machine is to be made again from the base image (its VM or disk was deleted by hand, or the node is to start over): the next up replaces the node's disk, seed and domain, runs every step of the node again, and its etcd member (if any) rejoins as etcdRejoin does; the node keeps its name, address and certificates and re-registers. An up refuses to run while a running node's VM or disk is gone and the node is not named here. A one-time request: take the name out again in the following up.", { default: [] }),
  etcdRejoin: key(z.array(str), "etcd members whose data was lost (their etcd cannot start again: its data directory was removed, or its disk was replaced): the next up takes each out of the member list through the other members and adds it back with an empty data directory, which it fills from them. A one-time request: take the name out again in the following up.", { default: [] }),
  lostMachines: key(z.array(str), "existing machines (hostMode: existing) that are gone for good, with everything on them, before a pulumi destroy: the next up changes nothing on them and marks each step that runs on them to be forgotten rather than undone when it goes (what it wrote went with the machine), so the destroy that follows does not dial a machine that is no more. The Kubernetes objects are forgotten too when the admin endpoint is such a machine. Keep the node in nodes while it is named here.", { default: [] }),
  // learning
  upTo: key(z.enum(STAGES), "Stand the lab up to this layer and stop: vms, pki, etcd, kube-nginx, control-plane, workers or addons (everything). Raising it continues; lowering it removes the later layers (the preview lists them).", { default: "addons" }),
  // lifecycle
  wipeDataOnDestroy: key(z.boolean(), "When a node goes (its removal, or pulumi destroy) from an existing machine, also remove its data directories (etcd, containerd, kubelet, kube-proxy): the node's footprint step does, after every other delete. A replaced step (a rolled kubelet, an etcd upgrade) never removes data. A lab VM's data goes with its disk anyway.", { default: false }),
};

type Keys = typeof CONFIG_KEYS;
/** A key with a default is always present after defaults are merged; one without is optional. */
type RawShape = { [K in keyof Keys]: Keys[K] extends { default: unknown } ? Keys[K]["schema"] : z.ZodOptional<Keys[K]["schema"]> };

/** Schema of the raw key values, after defaults are applied. */
export const rawSchema = z.object(
  Object.fromEntries(Object.entries(CONFIG_KEYS).map(([k, d]) => [k, "default" in d ? d.schema : d.schema.optional()])) as RawShape,
);
export type RawConfig = z.infer<typeof rawSchema>;

/** The Pulumi config type a schema reads as. */
export function pulumiType(schema: z.ZodType): KeyType {
  const def = (schema as unknown as { def: { type: string; options?: Array<{ def: { type: string; values?: unknown[] } }> } }).def;
  switch (def.type) {
    case "string":
    case "enum":
      return "string";
    case "number":
      return "integer";
    case "boolean":
      return "boolean";
    case "array":
      return "array";
    case "union":
      if (def.options?.every((o) => o.def.type === "literal" && o.def.values?.every((v) => typeof v === "number"))) return "integer";
  }
  throw new Error(`config key schema of type ${def.type} has no Pulumi config type`);
}

/** The catalogue as Pulumi.yaml and the messages see it. */
export const KEYS: KeySpec[] = Object.entries(CONFIG_KEYS).map(([k, d]) => ({
  key: k,
  type: "configType" in d && d.configType ? d.configType : pulumiType(d.schema),
  description: d.description,
  ...("default" in d ? { default: d.default as KeySpec["default"] } : {}),
  ...("secret" in d && d.secret ? { secret: true } : {}),
}));
