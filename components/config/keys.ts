// The stack configuration keys: name, Pulumi type, description and default of each.
// Pulumi.yaml declares exactly these (a test keeps the two in step), so `pulumi config`
// documents itself. Owns: the key catalogue. Depends on: versions (default versions).

import { DEFAULT_IMAGES } from "./versions";

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

export const KEYS: KeySpec[] = [
  // cluster
  { key: "clusterName", type: "string", default: "k8s-lab", description: "Name of the cluster; prefixes VM, network and kubeconfig context names. A DNS-1123 label." },
  { key: "clusterDomain", type: "string", default: "cluster.local", description: "Cluster DNS domain served by CoreDNS." },
  // versions
  { key: "kubernetesVersion", type: "string", default: "1.36.0", description: "Kubernetes release for every control-plane and node binary (supported: 1.34 to 1.37)." },
  { key: "etcdVersion", type: "string", default: "3.6.5", description: "etcd release (3.5 or 3.6)." },
  { key: "containerdVersion", type: "string", default: "2.2.0", description: "containerd release (2.x; 1.x is not supported by Kubernetes 1.36)." },
  { key: "runcVersion", type: "string", default: "1.3.3", description: "runc release." },
  { key: "crictlVersion", type: "string", default: "1.35.0", description: "crictl (cri-tools) release; keep within one minor of Kubernetes." },
  { key: "cniPluginsVersion", type: "string", default: "1.8.0", description: "containernetworking/plugins release installed to /opt/cni/bin." },
  { key: "artifactChecksums", type: "array", default: [], description: "Extra checksums for versions the catalogue does not know, as 'FILE=sha256:HEX' (or sha512:HEX), e.g. 'etcd-v3.6.6-linux-amd64.tar.gz=sha256:...'." },
  // nodes
  { key: "nodes", type: "array", default: DEFAULT_NODES, description: "One entry per node: 'name=NAME ip=IP roles=etcd,control-plane,worker' plus optional vcpu=N memoryMiB=N diskGiB=N mac=MAC overrides." },
  { key: "nodeVcpu", type: "integer", default: 2, description: "Default vCPUs per node (control-plane nodes need at least 2)." },
  { key: "nodeMemoryMiB", type: "integer", default: 2048, description: "Default memory per node in MiB (control-plane nodes need at least 2048, every node 1024)." },
  { key: "nodeDiskGiB", type: "integer", default: 20, description: "Default size of each node's disk overlay in GiB." },
  { key: "kubeletMaxPods", type: "integer", default: 110, description: "Pods per node the kubelet accepts (KubeletConfiguration maxPods)." },
  { key: "controlPlaneTaint", type: "boolean", default: false, description: "Taint control-plane nodes NoSchedule (off: every node also runs workloads, as in the lab guide)." },
  // network
  { key: "nodeCidr", type: "string", default: "192.168.253.0/24", description: "Node network; the libvirt NAT network uses its first host address as gateway." },
  { key: "podCidr", type: "string", default: "10.244.0.0/16", description: "Pod network; must not overlap the node or service network and must hold a /24 per node." },
  { key: "serviceCidr", type: "string", default: "10.96.0.0/12", description: "Service cluster IP range." },
  { key: "kubernetesServiceIp", type: "string", description: "ClusterIP of the 'kubernetes' service. Default: the first host address of serviceCidr." },
  { key: "clusterDnsIp", type: "string", description: "ClusterIP of CoreDNS, given to every kubelet. Default: the tenth host address of serviceCidr." },
  { key: "apiserverPort", type: "integer", default: 6443, description: "Secure port of every kube-apiserver." },
  { key: "localProxyPort", type: "integer", default: 8443, description: "Port of the local nginx proxy on 127.0.0.1 in front of all apiservers (kubelet and kube-proxy use it)." },
  { key: "kubeProxyMode", type: "string", default: "iptables", description: "kube-proxy mode: iptables or nftables (ipvs is deprecated)." },
  { key: "apiserverEndpoint", type: "string", description: "Where the admin kubeconfig and the addons reach the kube-apiservers: HOST or HOST:PORT of a VIP, load balancer or DNS name in front of every control-plane node (added to the apiserver certificate). Unset: the first control-plane node's IP, a single point of failure." },
  { key: "extraApiserverSans", type: "array", default: [], description: "Extra DNS names or IPs for the kube-apiserver serving certificate." },
  // access
  { key: "sshUser", type: "string", default: "k8s", description: "Login user on every node, with passwordless sudo (created by cloud-init; on 'existing' hosts it must exist with NOPASSWD sudo)." },
  { key: "sshPublicKey", type: "string", description: "OpenSSH public key for sshUser. Default: generated by the program together with sshPrivateKey." },
  { key: "sshPrivateKey", type: "string", secret: true, description: "Private key matching sshPublicKey (set with --secret). Default: generated." },
  // hypervisor
  { key: "hostMode", type: "string", default: "libvirt", description: "'libvirt': create the VMs; 'existing': use machines that already run at the node IPs." },
  { key: "libvirtUri", type: "string", default: "qemu:///system", description: "libvirt connection URI; qemu+ssh://user@host/system for a remote hypervisor." },
  { key: "domainType", type: "string", default: "kvm", description: "libvirt domain type: kvm, or qemu (TCG) on hosts without hardware virtualization." },
  { key: "storagePool", type: "string", default: "k8s-lab", description: "libvirt storage pool for the base image, overlays and seed ISOs." },
  { key: "storagePoolPath", type: "string", default: "/var/lib/libvirt/images/k8s-lab", description: "Directory of the storage pool on the hypervisor." },
  { key: "baseImageUrl", type: "string", description: "Cloud image (qcow2 with cloud-init) downloaded once into the pool, pinned to a dated release. Needs baseImageChecksum." },
  { key: "baseImageChecksum", type: "string", description: "sha256:HEX or sha512:HEX of the base image; required with baseImageUrl." },
  { key: "baseImagePath", type: "string", description: "A qcow2 cloud image on the machine running Pulumi, uploaded once into the pool instead of downloading baseImageUrl." },
  { key: "baseImageFamily", type: "string", default: "debian", description: "Distro family of the base image, for package names and proxy settings: debian or rhel." },
  { key: "skipPackageInstall", type: "boolean", default: false, description: "The base image already has the node packages (air-gapped, pre-baked): cloud-init installs nothing." },
  // downloads and proxies
  { key: "httpProxy", type: "string", description: "HTTP proxy for downloads, the package manager and containerd, e.g. http://proxy.lab:3128." },
  { key: "httpsProxy", type: "string", description: "HTTPS proxy; defaults to httpProxy when only that is set." },
  { key: "noProxy", type: "array", default: [], description: "Extra NO_PROXY entries; the cluster's own networks, names and domains are added automatically." },
  { key: "downloadMirror", type: "string", description: "Base URL of a mirror laid out as <base>/<component>/v<version>/<file> (see README)." },
  { key: "artifactDir", type: "string", description: "Air-gapped installs: a directory on the machine running Pulumi holding every release file, copied to the nodes over SSH." },
  { key: "registryMirrors", type: "array", default: [], description: "Container registry mirrors as 'REGISTRY=URL', e.g. 'registry.k8s.io=https://mirror.lab:5000'." },
  { key: "imageOverrides", type: "array", default: [], description: "Replace addon images as 'NAME=IMAGE' (NAME: coredns, weaveKube, weaveNpc, flannel, flannelCniPlugin, dashboard, dashboardMetricsScraper, headlamp)." },
  { key: "imageArchiveDir", type: "string", description: "Registry-less clusters: a directory on the machine running Pulumi with docker-archive tarballs (*.tar, e.g. from docker save); every worker imports them into containerd (digests checked). Every image the cluster runs must be in one, or behind registryMirrors." },
  { key: "pauseImage", type: "string", default: DEFAULT_IMAGES.pause, description: "Sandbox (pause) image for containerd; pulled through registryMirrors." },
  // addons
  { key: "cni", type: "string", default: "weave", description: "Pod network: weave or flannel (add-ons), or bridge (the hard way: a bridge and host-local IPs per node, routes between nodes; no overlay, no images)." },
  { key: "coredns", type: "boolean", default: true, description: "Deploy CoreDNS." },
  { key: "dashboard", type: "boolean", default: true, description: "Deploy the Kubernetes Dashboard v2.7.0 (archived upstream)." },
  { key: "headlamp", type: "boolean", default: false, description: "Also deploy Headlamp, a maintained Kubernetes web UI (the Dashboard project is archived)." },
  { key: "dashboardLoginRole", type: "string", default: "view", description: "Role of the dashboard and Headlamp login accounts: view (read-only) or cluster-admin." },
  // pki
  { key: "pkiKeyAlgorithm", type: "string", default: "ECDSA", description: "Key algorithm of every certificate: ECDSA (P-256) or RSA." },
  { key: "pkiRsaBits", type: "integer", default: 2048, description: "RSA key size when pkiKeyAlgorithm is RSA." },
  { key: "caValidityHours", type: "integer", default: 87600, description: "Validity of the CAs in hours (10 years)." },
  { key: "certValidityHours", type: "integer", default: 8760, description: "Validity of leaf certificates in hours (1 year)." },
  { key: "certEarlyRenewalHours", type: "integer", default: 720, description: "Re-issue a leaf certificate this many hours before it expires (on the next up)." },
  { key: "separateEtcdCa", type: "boolean", default: true, description: "Issue etcd certificates from their own CA (false: from the cluster CA)." },
  // lifecycle
  { key: "wipeDataOnDestroy", type: "boolean", default: false, description: "On destroy of a host step, also remove data directories (etcd data)." },
];
