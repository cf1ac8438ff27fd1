// PKI planning: from the cluster model to the list of CAs, certificates and kubeconfigs
// the cluster needs — names, subjects, SANs, usages and which server each kubeconfig
// talks to. Pure data; the ClusterPki component issues it, the render command prints it.
// Depends on: config.
import * as YAML from "yaml";
import { ClusterConfig, NodeSpec, labDnsDomain, nodesWith } from "../config";

/** `allowedUses` values exactly as the tls provider spells them. */
export type AllowedUse = "cert_signing" | "crl_signing" | "key_encipherment" | "digital_signature" | "server_auth" | "client_auth";

export type CaId = "cluster-ca" | "front-proxy-ca" | "etcd-ca";

/** Every leaf certificate the cluster has: the fixed ones by name, per-node ones by node. */
export type CertId =
  | "apiserver"
  | "apiserver-kubelet-client"
  | "apiserver-etcd-client"
  | "etcd-healthcheck-client"
  | "front-proxy-client"
  | "admin"
  | "super-admin"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kube-proxy"
  | `etcd-member-${string}`
  | `kubelet-${string}`;

/** Every kubeconfig the PKI writes. */
export type KubeconfigId = "admin" | "super-admin" | "kube-controller-manager" | "kube-scheduler" | "kube-proxy" | `kubelet-${string}`;

export interface CaPlan {
  id: CaId;
  commonName: string;
  usages: AllowedUse[];
}

export interface CertPlan {
  /** Stable id, also the resource name: `apiserver`, `etcd-member-k8s-1`, `kubelet-k8s-2`… */
  id: CertId;
  /** Issuing CA. */
  ca: CaId;
  commonName: string;
  organization?: string;
  dnsNames: string[];
  ipAddresses: string[];
  usages: AllowedUse[];
  /** The node this certificate belongs to, if it is per node. */
  node?: string;
}

export interface KubeconfigPlan {
  /** `admin`, `kube-controller-manager`, `kube-scheduler`, `kube-proxy`, `kubelet-<node>`. */
  id: KubeconfigId;
  /** The certificate (by id) whose identity the kubeconfig carries. */
  cert: CertId;
  /** The apiserver URL it talks to. */
  server: string;
  node?: string;
}

export interface PkiPlan {
  cas: CaPlan[];
  certs: CertPlan[];
  kubeconfigs: KubeconfigPlan[];
  key: { algorithm: "ECDSA" | "RSA"; ecdsaCurve?: "P256"; rsaBits?: number };
  caValidityHours: number;
  certValidityHours: number;
  earlyRenewalHours: number;
}

const CA_USES: AllowedUse[] = ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"];
const SERVER: AllowedUse[] = ["digital_signature", "key_encipherment", "server_auth"];
const CLIENT: AllowedUse[] = ["digital_signature", "key_encipherment", "client_auth"];
const BOTH: AllowedUse[] = ["digital_signature", "key_encipherment", "server_auth", "client_auth"];

/** The identity kube-apiserver presents to kubelets; the kubelet-API RBAC binding names it. */
export const APISERVER_KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client";

/** DNS names of the 'kubernetes' service, including the fully qualified one guides forget. */
export function kubernetesServiceNames(domain: string): string[] {
  return ["kubernetes", "kubernetes.default", "kubernetes.default.svc", `kubernetes.default.svc.${domain}`];
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

function partition(sans: string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const isIp = (s: string) => /^\d+\.\d+\.\d+\.\d+$/.test(s);
  return { dnsNames: sans.filter((s) => !isIp(s)), ipAddresses: sans.filter(isIp) };
}

/** The admin certificate's group; a ClusterRoleBinding (control-plane layer, admin-access) grants it cluster-admin. */
export const CLUSTER_ADMINS_GROUP = "k8s-lab:cluster-admins";

/**
 * The apiserver URL a component reaches, by where it runs. `external` (the admin
 * kubeconfig, the Kubernetes provider, the API gate) is apiserverEndpoint when set, else the
 * first control-plane node: with that node down, admin access and addons fail though the
 * other apiservers are healthy.
 */
export function apiserverUrls(c: ClusterConfig): { local: string; viaProxy: string; external: string } {
  const first = c.adminNode;
  const ep = c.network.apiserverEndpoint ?? { host: first?.ip ?? "127.0.0.1", port: c.network.apiserverPort };
  return {
    local: `https://127.0.0.1:${c.network.apiserverPort}`,
    viaProxy: `https://127.0.0.1:${c.network.localProxyPort}`,
    external: `https://${ep.host}:${ep.port}`,
  };
}

/** Which endpoint the admin kubeconfig uses, and whether it is a single point of failure (a stack output). */
export function adminEndpointNote(c: ClusterConfig): string {
  const first = c.adminNode;
  return c.network.apiserverEndpoint
    ? "apiserverEndpoint (config)"
    : `the first control-plane node, ${first?.name}: a single point of failure for admin access and addons; set apiserverEndpoint to a VIP or DNS name in front of every control-plane node${c.hypervisor.mode === "libvirt" ? ` (on these lab VMs: api.${labDnsDomain(c)}, which the lab network's DNS answers with every control-plane node's address)` : ""}`;
}

export function planPki(c: ClusterConfig): PkiPlan {
  const etcdCa: CaId = c.pki.separateEtcdCa ? "etcd-ca" : "cluster-ca";
  const cas: CaPlan[] = [
    { id: "cluster-ca", commonName: "kubernetes-ca", usages: CA_USES },
    { id: "front-proxy-ca", commonName: "kubernetes-front-proxy-ca", usages: CA_USES },
  ];
  if (c.pki.separateEtcdCa) cas.push({ id: "etcd-ca", commonName: "etcd-ca", usages: CA_USES });

  const controlPlane = nodesWith(c, "control-plane");
  const apiserverSans = partition(
    uniq([
      ...controlPlane.map((n) => n.ip),
      ...controlPlane.map((n) => n.name),
      "127.0.0.1",
      c.network.kubernetesServiceIp,
      ...kubernetesServiceNames(c.domain),
      ...c.network.extraApiserverSans,
      ...(c.network.apiserverEndpoint ? [c.network.apiserverEndpoint.host] : []),
    ]),
  );
  const client = (id: CertId, commonName: string, ca: CaId, organization?: string): CertPlan => ({
    id, ca, commonName, organization, dnsNames: [], ipAddresses: [], usages: CLIENT,
  });
  const etcdMember = (n: NodeSpec): CertPlan => ({
    id: `etcd-member-${n.name}`,
    ca: etcdCa,
    commonName: n.name,
    dnsNames: [n.name, "localhost"],
    ipAddresses: [n.ip, "127.0.0.1"],
    usages: BOTH,
    node: n.name,
  });
  const kubelet = (n: NodeSpec): CertPlan => ({
    id: `kubelet-${n.name}`,
    ca: "cluster-ca",
    commonName: `system:node:${n.name}`,
    organization: "system:nodes",
    dnsNames: [n.name],
    ipAddresses: [n.ip],
    usages: BOTH,
    node: n.name,
  });

  const certs: CertPlan[] = [
    { id: "apiserver", ca: "cluster-ca", commonName: "kube-apiserver", ...apiserverSans, usages: SERVER },
    client("apiserver-kubelet-client", APISERVER_KUBELET_CLIENT_USER, "cluster-ca"),
    client("apiserver-etcd-client", "kube-apiserver-etcd-client", etcdCa),
    client("etcd-healthcheck-client", "kube-etcd-healthcheck-client", etcdCa),
    client("front-proxy-client", "front-proxy-client", "front-proxy-ca"),
    // as kubeadm does since 1.29: the everyday admin in a group bound to cluster-admin (the
    // binding can be removed or narrowed), the system:masters break-glass identity only in
    // the stack's secrets
    client("admin", "admin", "cluster-ca", CLUSTER_ADMINS_GROUP),
    client("super-admin", "k8s-lab-super-admin", "cluster-ca", "system:masters"),
    client("kube-controller-manager", "system:kube-controller-manager", "cluster-ca"),
    client("kube-scheduler", "system:kube-scheduler", "cluster-ca"),
    client("kube-proxy", "system:kube-proxy", "cluster-ca"),
    ...nodesWith(c, "etcd").map(etcdMember),
    ...c.nodes.map(kubelet),
  ];

  const urls = apiserverUrls(c);
  const kubeconfigs: KubeconfigPlan[] = [
    { id: "admin", cert: "admin", server: urls.external },
    { id: "super-admin", cert: "super-admin", server: urls.external },
    { id: "kube-controller-manager", cert: "kube-controller-manager", server: urls.local },
    { id: "kube-scheduler", cert: "kube-scheduler", server: urls.local },
    { id: "kube-proxy", cert: "kube-proxy", server: urls.viaProxy },
    ...c.nodes.map((n): KubeconfigPlan => ({ id: `kubelet-${n.name}`, cert: `kubelet-${n.name}`, server: urls.viaProxy, node: n.name })),
  ];

  return {
    cas,
    certs,
    kubeconfigs,
    key: c.pki.algorithm === "ECDSA" ? { algorithm: "ECDSA", ecdsaCurve: "P256" } : { algorithm: "RSA", rsaBits: c.pki.rsaBits },
    caValidityHours: c.pki.caValidityHours,
    certValidityHours: c.pki.certValidityHours,
    earlyRenewalHours: c.pki.earlyRenewalHours,
  };
}

export interface KubeconfigMaterial {
  clusterName: string;
  server: string;
  user: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** A kubeconfig with embedded credentials, built as data and serialized with the YAML library. */
export function renderKubeconfig(m: KubeconfigMaterial): string {
  const context = `${m.user}@${m.clusterName}`;
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: m.clusterName, cluster: { server: m.server, "certificate-authority-data": b64(m.caPem) } }],
    users: [{ name: m.user, user: { "client-certificate-data": b64(m.certPem), "client-key-data": b64(m.keyPem) } }],
    contexts: [{ name: context, context: { cluster: m.clusterName, user: m.user } }],
    "current-context": context,
    preferences: {},
  });
}

// ---- what the tls provider is asked for (shared by ClusterPki and the render's test PKI) ----

/** tls.PrivateKey inputs for every key of the PKI. */
export function keyInputs(plan: PkiPlan): { algorithm: "ECDSA" | "RSA"; ecdsaCurve?: "P256"; rsaBits?: number } {
  return { algorithm: plan.key.algorithm, ecdsaCurve: plan.key.ecdsaCurve, rsaBits: plan.key.rsaBits };
}

/** tls.SelfSignedCert inputs of a CA (without the private key). */
export function caCertInputs(ca: CaPlan, plan: PkiPlan) {
  return { subject: { commonName: ca.commonName }, isCaCertificate: true, allowedUses: ca.usages, validityPeriodHours: plan.caValidityHours, setSubjectKeyId: true };
}

/** tls.CertRequest inputs of a leaf (without the private key). */
export function certRequestInputs(c: CertPlan) {
  return { subject: { commonName: c.commonName, organization: c.organization }, dnsNames: c.dnsNames, ipAddresses: c.ipAddresses };
}

/** tls.LocallySignedCert inputs of a leaf (without the CSR and the CA). */
export function leafCertInputs(c: CertPlan, plan: PkiPlan) {
  return { allowedUses: c.usages, validityPeriodHours: plan.certValidityHours, earlyRenewalHours: plan.earlyRenewalHours, setSubjectKeyId: true };
}
