// Control-plane planning: on each control-plane node, kube-apiserver (etcd over TLS,
// Node+RBAC, NodeRestriction, service-account keys, Secrets encrypted at rest, audit log,
// front-proxy), kube-controller-manager and kube-scheduler (leader election, loopback
// only), their files and units, and each apiserver's readiness gate.
// Pure. Depends on: config, host, node-prep (paths), pki (identities), etcd (client URLs).
import * as YAML from "yaml";
import { ClusterConfig, NodeSpec, emulatedGuests } from "../config";
import { BIN_DIR, releasesRun } from "../node-prep/artifacts";
import { HostStepPlan, restartAndAwait, restartUnits, unitRemoval } from "../host/plan";
import { commandLine, renderUnit } from "../host/systemd";
import { KUBECONFIG_DIR, PKI_DIR, certAndKey, certFile, secretFile } from "../host/key-files";
import { material } from "../pki/material";
import { APISERVER_ETCD_CLIENT, CLIENT_PORT, etcdCaRef, etcdClientUrls, etcdTiming } from "../etcd/plan";

export const APISERVER_UNIT = "/etc/systemd/system/kube-apiserver.service";
export const CONTROLLER_MANAGER_UNIT = "/etc/systemd/system/kube-controller-manager.service";
export const SCHEDULER_UNIT = "/etc/systemd/system/kube-scheduler.service";
export const ENCRYPTION_CONFIG = `${KUBECONFIG_DIR}/encryption-config.yaml`;
export const AUDIT_POLICY = `${KUBECONFIG_DIR}/audit-policy.yaml`;
export const AUDIT_LOG = "/var/log/kubernetes/audit.log";
export const SCHEDULER_CONFIG = `${KUBECONFIG_DIR}/kube-scheduler.yaml`;
export const ADMIN_KUBECONFIG = `${KUBECONFIG_DIR}/admin.conf`;

/** The etcd CA as the apiserver reads it (its own copy: the etcd step owns etcd/ca.crt). */
export const APISERVER_ETCD_CA = `${PKI_DIR}/apiserver-etcd-ca.crt`;

export const ADMISSION_PLUGINS = ["NodeRestriction"];

/**
 * The EncryptionConfiguration with the program's 32-byte key (secret): secretbox for
 * Secrets (XSalsa20-Poly1305; upstream no longer recommends aescbc), identity to read data
 * written before encryption was on. Rotating the key: docs/design.md, "Encryption at rest".
 */
export function encryptionConfig(keyBase64: string): string {
  return YAML.stringify({
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "EncryptionConfiguration",
    resources: [{ resources: ["secrets"], providers: [{ secretbox: { keys: [{ name: "key1", secret: keyBase64 }] } }, { identity: {} }] }],
  });
}

/** Audit policy: metadata for everything, nothing for the noisy read-only health and watch traffic. */
export function auditPolicy(): string {
  return YAML.stringify({
    apiVersion: "audit.k8s.io/v1",
    kind: "Policy",
    omitStages: ["RequestReceived"],
    rules: [
      { level: "None", nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version"] },
      { level: "None", users: ["system:kube-proxy"], verbs: ["watch"] },
      { level: "Metadata", resources: [{ group: "", resources: ["secrets", "configmaps"] }] },
      { level: "Metadata" },
    ],
  });
}

/**
 * Leader election of the controller-manager and the scheduler. Upstream's 15 s lease / 10 s
 * renew deadline on emulated guests (domainType qemu): a leader whose apiserver answers
 * slowly misses its renew deadline and exits; on the weave lab under the conformance suite
 * the controller-manager's lease changed hands 19 times in 80 minutes and a ReplicaSet got
 * no pod for 2 minutes. Emulated guests get 60 s / 40 s / 5 s (a failover then takes up to a
 * minute); hardware-virtualized ones keep upstream's defaults.
 */
export function leaderElection(c: ClusterConfig): { leaseDuration: string; renewDeadline: string; retryPeriod: string } | undefined {
  return emulatedGuests(c) ? { leaseDuration: "60s", renewDeadline: "40s", retryPeriod: "5s" } : undefined;
}

/**
 * How long kube-apiserver's /livez and /readyz wait for etcd's answer: upstream's 2 s on
 * hardware-virtualized guests. Emulated guests wait as long as etcd itself gives a request
 * there (5 s + 2 × its election timeout: 15 s). On the existing-machines TCG lab (guest load
 * 10 on 2 vCPUs) etcd's reads took 1.5–12 s, and two apiservers' /readyz said "etcd failed"
 * for more than five minutes while they served requests: a local proxy that checks /readyz
 * (HAProxy's) would have taken those apiservers out.
 */
export function etcdProbeTimeout(c: ClusterConfig): string | undefined {
  return emulatedGuests(c) ? `${5 + (2 * etcdTiming(c).electionMs) / 1000}s` : undefined;
}

export function schedulerConfig(c: ClusterConfig): string {
  return YAML.stringify({
    apiVersion: "kubescheduler.config.k8s.io/v1",
    kind: "KubeSchedulerConfiguration",
    clientConnection: { kubeconfig: `${KUBECONFIG_DIR}/scheduler.conf` },
    leaderElection: { leaderElect: true, ...leaderElection(c) },
    // CIS 1.4.1: no profiling endpoint (the scheduler's --profiling flag is deprecated for this field)
    enableProfiling: false,
  });
}

/**
 * The etcd members an apiserver talks to. On a node that is an etcd member too, only that
 * member, on 127.0.0.1 (kubeadm's stacked layout): the apiserver is then as ready as its own
 * member, and the local proxies take it out while that member is down, instead of its etcd
 * client hanging on a member that is gone — on the lab, with a VM deleted by hand, the other
 * apiservers answered `Unavailable` (`read tcp …->…:2379: connection timed out`) for minutes,
 * and a rebooted node's apiserver, started before its own member, dialled the other members
 * hundreds of times while its post-start hooks timed out. Elsewhere, every member.
 */
export function apiserverEtcdServers(c: ClusterConfig, node: NodeSpec): string[] {
  return node.roles.has("etcd") ? [`https://127.0.0.1:${CLIENT_PORT}`] : etcdClientUrls(c);
}

export function apiserverFlags(c: ClusterConfig, node: NodeSpec): Record<string, string | number | boolean> {
  const etcdProbe = etcdProbeTimeout(c);
  return {
    "advertise-address": node.ip,
    "bind-address": "0.0.0.0",
    "secure-port": c.network.apiserverPort,
    "allow-privileged": true,
    "authorization-mode": "Node,RBAC",
    "enable-admission-plugins": ADMISSION_PLUGINS.join(","),
    "client-ca-file": `${PKI_DIR}/ca.crt`,
    "tls-cert-file": `${PKI_DIR}/apiserver.crt`,
    "tls-private-key-file": `${PKI_DIR}/apiserver.key`,
    "etcd-servers": apiserverEtcdServers(c, node).join(","),
    "etcd-cafile": APISERVER_ETCD_CA,
    "etcd-certfile": `${APISERVER_ETCD_CLIENT}.crt`,
    "etcd-keyfile": `${APISERVER_ETCD_CLIENT}.key`,
    ...(etcdProbe ? { "etcd-healthcheck-timeout": etcdProbe, "etcd-readycheck-timeout": etcdProbe } : {}),
    "kubelet-client-certificate": `${PKI_DIR}/apiserver-kubelet-client.crt`,
    "kubelet-client-key": `${PKI_DIR}/apiserver-kubelet-client.key`,
    "kubelet-certificate-authority": `${PKI_DIR}/ca.crt`,
    "kubelet-preferred-address-types": "InternalIP,Hostname,ExternalIP",
    "service-account-issuer": `https://kubernetes.default.svc.${c.domain}`,
    "service-account-key-file": `${PKI_DIR}/sa.pub`,
    "service-account-signing-key-file": `${PKI_DIR}/sa.key`,
    "service-cluster-ip-range": c.network.serviceCidr,
    "service-node-port-range": "30000-32767",
    "encryption-provider-config": ENCRYPTION_CONFIG,
    "audit-policy-file": AUDIT_POLICY,
    "audit-log-path": AUDIT_LOG,
    // the CIS Kubernetes Benchmark's retention (1.2.16–1.2.18): 30 days, 10 files of 100 MB
    "audit-log-maxage": 30,
    "audit-log-maxbackup": 10,
    "audit-log-maxsize": 100,
    // CIS 1.2.15 and 1.2.25: no profiling endpoint; a service-account token lives as long as it says
    profiling: false,
    "service-account-extend-token-expiration": false,
    "requestheader-client-ca-file": `${PKI_DIR}/front-proxy-ca.crt`,
    "requestheader-allowed-names": "front-proxy-client",
    "requestheader-extra-headers-prefix": "X-Remote-Extra-",
    "requestheader-group-headers": "X-Remote-Group",
    "requestheader-username-headers": "X-Remote-User",
    "proxy-client-cert-file": `${PKI_DIR}/front-proxy-client.crt`,
    "proxy-client-key-file": `${PKI_DIR}/front-proxy-client.key`,
    "enable-aggregator-routing": true,
    // On SIGTERM, close open watches 2 s after the in-flight requests have drained. Upstream's
    // default waits up to --request-timeout (60 s) for them, and clients keep watches open for
    // minutes: every stop (each node's turn in an upgrade) took 68 s on the lab VMs, 9 s with this.
    // Clients reconnect through their kube-nginx to another apiserver.
    "shutdown-send-retry-after": true,
    v: 2,
  };
}

export function controllerManagerFlags(c: ClusterConfig): Record<string, string | number | boolean> {
  const flannel = c.addons.cni === "flannel";
  const election = leaderElection(c);
  return {
    "bind-address": "127.0.0.1",
    kubeconfig: `${KUBECONFIG_DIR}/controller-manager.conf`,
    "authentication-kubeconfig": `${KUBECONFIG_DIR}/controller-manager.conf`,
    "authorization-kubeconfig": `${KUBECONFIG_DIR}/controller-manager.conf`,
    "leader-elect": true,
    ...(election ? { "leader-elect-lease-duration": election.leaseDuration, "leader-elect-renew-deadline": election.renewDeadline, "leader-elect-retry-period": election.retryPeriod } : {}),
    "use-service-account-credentials": true,
    "cluster-name": c.name,
    "cluster-signing-cert-file": `${PKI_DIR}/ca.crt`,
    "cluster-signing-key-file": `${PKI_DIR}/ca.key`,
    "root-ca-file": `${PKI_DIR}/ca.crt`,
    "service-account-private-key-file": `${PKI_DIR}/sa.key`,
    "service-cluster-ip-range": c.network.serviceCidr,
    "cluster-cidr": c.network.podCidr,
    // flannel (kube-subnet-mgr) reads each node's podCIDR; weave allocates on its own
    "allocate-node-cidrs": flannel,
    ...(flannel ? { "node-cidr-mask-size": 24 } : {}),
    "requestheader-client-ca-file": `${PKI_DIR}/front-proxy-ca.crt`,
    controllers: "*,bootstrapsigner,tokencleaner",
    // CIS 1.3.2: no profiling endpoint
    profiling: false,
    v: 2,
  };
}

export function schedulerFlags(): Record<string, string | number | boolean> {
  return {
    config: SCHEDULER_CONFIG,
    "bind-address": "127.0.0.1",
    "authentication-kubeconfig": `${KUBECONFIG_DIR}/scheduler.conf`,
    "authorization-kubeconfig": `${KUBECONFIG_DIR}/scheduler.conf`,
    v: 2,
  };
}

function unit(description: string, exec: string, after: string[]): string {
  return renderUnit(
    {
      Unit: { Description: description, Documentation: "https://kubernetes.io/docs/reference/command-line-tools-reference/", After: [...new Set([...after, "network-online.target"])], Wants: "network-online.target" },
      Service: { ExecStart: exec, Restart: "on-failure", RestartSec: 5, LimitNOFILE: 65536 },
      Install: { WantedBy: "multi-user.target" },
    },
    "generated by k8s-lab (components/control-plane)",
  );
}

export function apiserverUnit(c: ClusterConfig, node: NodeSpec): string {
  // after its own etcd member, where there is one (at boot: the member it talks to)
  return unit("kube-apiserver (k8s-lab)", commandLine(`${BIN_DIR}/kube-apiserver`, apiserverFlags(c, node)), node.roles.has("etcd") ? ["etcd.service"] : []);
}
export function controllerManagerUnit(c: ClusterConfig): string {
  return unit("kube-controller-manager (k8s-lab)", commandLine(`${BIN_DIR}/kube-controller-manager`, controllerManagerFlags(c)), ["kube-apiserver.service"]);
}
export function schedulerUnit(): string {
  return unit("kube-scheduler (k8s-lab)", commandLine(`${BIN_DIR}/kube-scheduler`, schedulerFlags()), ["kube-apiserver.service"]);
}

/**
 * Asks the local apiserver's /readyz as the admin (a client certificate): an anonymous
 * request is refused (403) until RBAC is bootstrapped, which a gate could not tell from
 * "not ready".
 */
const readyz = (c: ClusterConfig) => `${BIN_DIR}/kubectl --kubeconfig ${ADMIN_KUBECONFIG} --server https://127.0.0.1:${c.network.apiserverPort} --request-timeout 5s get --raw /readyz`;
/**
 * How long an apiserver may take to pass /readyz after its restart. Generous: three
 * apiservers bootstrapping at once on TCG guests took over 300 s in the first lab run; on
 * emulated guests (domainType qemu) that also import the conformance images meanwhile, one
 * took just over 600 s (the weave lab of 2026-12-06: ready a minute after the step gave up),
 * so emulated guests get 1200 s; hardware-virtualized ones 600.
 */
export function apiserverReadyTimeout(c: ClusterConfig): number {
  return emulatedGuests(c) ? 1200 : 600;
}

export function planControlPlane(c: ClusterConfig, node: NodeSpec): HostStepPlan {
  return {
    node: node.name,
    ip: node.ip,
    layer: "control-plane",
    runs: releasesRun(c, node, ["kubernetes"]),
    description: "kube-apiserver, kube-controller-manager and kube-scheduler",
    files: [
      certFile(`${PKI_DIR}/ca.crt`, material.caCert("cluster-ca")),
      secretFile(`${PKI_DIR}/ca.key`, material.caKey("cluster-ca")),
      certFile(`${PKI_DIR}/front-proxy-ca.crt`, material.caCert("front-proxy-ca")),
      certFile(APISERVER_ETCD_CA, etcdCaRef(c)),
      ...certAndKey(`${PKI_DIR}/apiserver`, "apiserver"),
      ...certAndKey(`${PKI_DIR}/apiserver-kubelet-client`, "apiserver-kubelet-client"),
      ...certAndKey(APISERVER_ETCD_CLIENT, "apiserver-etcd-client"),
      ...certAndKey(`${PKI_DIR}/front-proxy-client`, "front-proxy-client"),
      secretFile(`${PKI_DIR}/sa.key`, material.serviceAccountKey()),
      certFile(`${PKI_DIR}/sa.pub`, material.serviceAccountPublicKey()),
      secretFile(ENCRYPTION_CONFIG, material.encryptionConfig()),
      { path: AUDIT_POLICY, content: auditPolicy(), mode: "0644" },
      { path: SCHEDULER_CONFIG, content: schedulerConfig(c), mode: "0644" },
      secretFile(`${KUBECONFIG_DIR}/controller-manager.conf`, material.kubeconfig("kube-controller-manager")),
      secretFile(`${KUBECONFIG_DIR}/scheduler.conf`, material.kubeconfig("kube-scheduler")),
      secretFile(ADMIN_KUBECONFIG, material.kubeconfig("admin")),
      { path: APISERVER_UNIT, content: apiserverUnit(c, node), mode: "0600" },
      { path: CONTROLLER_MANAGER_UNIT, content: controllerManagerUnit(c), mode: "0600" },
      { path: SCHEDULER_UNIT, content: schedulerUnit(), mode: "0600" },
    ],
    activate: [
      "install -d -m 0700 /var/log/kubernetes",
      ...restartAndAwait("kube-apiserver", node.name, {
        check: readyz(c),
        seconds: apiserverReadyTimeout(c),
        failing: `is not ready (GET /readyz as admin on 127.0.0.1:${c.network.apiserverPort})`,
        interval: 3,
        seeAlso: `${readyz(c)}?verbose`,
      }),
      ...restartUnits("kube-controller-manager", "kube-scheduler"),
    ],
    ...unitRemoval(["kube-scheduler", "kube-controller-manager", "kube-apiserver"]),
    createdPaths: ["/var/log/kubernetes"],
    healthGate: `GET /readyz as admin on 127.0.0.1:${c.network.apiserverPort} within ${apiserverReadyTimeout(c)} s`,
  };
}
