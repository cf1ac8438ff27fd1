// Control-plane planning: on each control-plane node, kube-apiserver (etcd over TLS,
// Node+RBAC, NodeRestriction, service-account keys, Secrets encrypted at rest, audit log,
// front-proxy), kube-controller-manager and kube-scheduler (leader election, loopback
// only), their files and units; the admin group's binding to cluster-admin (admin-access);
// and the cluster gate that every kubelet node has registered.
// Depends on: config, host, pki (paths, identities), etcd (client URLs).
import * as YAML from "yaml";
import { ClusterConfig, NodeSpec, kubeletNodes, nodesWith } from "../config";
import { BIN_DIR, releasesRun } from "../host/artifacts";
import { HostStepPlan, restartAndAwait, restartUnits, shq, unitRemoval, waitUntil } from "../host/plan";
import { commandLine, renderUnit } from "../host/systemd";
import { KUBECONFIG_DIR, PKI_DIR, certAndKey, certFile, secretFile } from "../pki/files";
import { material } from "../pki/material";
import { CLUSTER_ADMINS_GROUP } from "../pki/plan";
import { APISERVER_ETCD_CLIENT, etcdCaRef, etcdClientUrls } from "../etcd/plan";

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
 * written before encryption was on. Rotating the key: README, "Encryption at rest".
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

export function schedulerConfig(): string {
  return YAML.stringify({
    apiVersion: "kubescheduler.config.k8s.io/v1",
    kind: "KubeSchedulerConfiguration",
    clientConnection: { kubeconfig: `${KUBECONFIG_DIR}/scheduler.conf` },
    leaderElection: { leaderElect: true },
  });
}

export function apiserverFlags(c: ClusterConfig, node: NodeSpec): Record<string, string | number | boolean> {
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
    "etcd-servers": etcdClientUrls(c).join(","),
    "etcd-cafile": APISERVER_ETCD_CA,
    "etcd-certfile": `${APISERVER_ETCD_CLIENT}.crt`,
    "etcd-keyfile": `${APISERVER_ETCD_CLIENT}.key`,
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
    "audit-log-maxage": 7,
    "audit-log-maxbackup": 5,
    "audit-log-maxsize": 100,
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
  return {
    "bind-address": "127.0.0.1",
    kubeconfig: `${KUBECONFIG_DIR}/controller-manager.conf`,
    "authentication-kubeconfig": `${KUBECONFIG_DIR}/controller-manager.conf`,
    "authorization-kubeconfig": `${KUBECONFIG_DIR}/controller-manager.conf`,
    "leader-elect": true,
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
  return unit("kube-apiserver (k8s-lab)", commandLine(`${BIN_DIR}/kube-apiserver`, apiserverFlags(c, node)), []);
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
// generous: three apiservers bootstrapping at once on TCG guests took over 300 s in the lab run
export const APISERVER_READY_TIMEOUT_S = 600;

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
      { path: SCHEDULER_CONFIG, content: schedulerConfig(), mode: "0644" },
      secretFile(`${KUBECONFIG_DIR}/controller-manager.conf`, material.kubeconfig("kube-controller-manager")),
      secretFile(`${KUBECONFIG_DIR}/scheduler.conf`, material.kubeconfig("kube-scheduler")),
      secretFile(ADMIN_KUBECONFIG, material.kubeconfig("admin")),
      { path: APISERVER_UNIT, content: apiserverUnit(c, node), mode: "0644" },
      { path: CONTROLLER_MANAGER_UNIT, content: controllerManagerUnit(c), mode: "0644" },
      { path: SCHEDULER_UNIT, content: schedulerUnit(), mode: "0644" },
    ],
    activate: [
      "install -d -m 0700 /var/log/kubernetes",
      ...restartAndAwait("kube-apiserver", node.name, {
        check: readyz(c),
        seconds: APISERVER_READY_TIMEOUT_S,
        failing: `is not ready (GET /readyz as admin on 127.0.0.1:${c.network.apiserverPort})`,
        interval: 3,
        seeAlso: `${readyz(c)}?verbose`,
      }),
      ...restartUnits("kube-controller-manager", "kube-scheduler"),
    ],
    ...unitRemoval(["kube-scheduler", "kube-controller-manager", "kube-apiserver"]),
    createdPaths: ["/var/log/kubernetes"],
    healthGate: `GET /readyz as admin on 127.0.0.1:${c.network.apiserverPort} within ${APISERVER_READY_TIMEOUT_S} s`,
  };
}

/** Where the break-glass kubeconfig sits while admin-access runs (tmpfs; removed at once). */
export const SUPER_ADMIN_KUBECONFIG = "/run/k8s-lab/super-admin.conf";
export const CLUSTER_ADMINS_BINDING = "k8s-lab:cluster-admins";

/**
 * Grants the admin certificate's group cluster-admin, as kubeadm does: the binding is made
 * with the system:masters break-glass credential, which visits the first control-plane
 * node's tmpfs for this one command and is never kept on a node.
 */
export function planAdminAccess(c: ClusterConfig): HostStepPlan {
  const first = nodesWith(c, "control-plane")[0];
  const server = `--server https://127.0.0.1:${c.network.apiserverPort} --request-timeout 30s`;
  return {
    node: first.name,
    ip: first.ip,
    layer: "admin-access",
    description: `ClusterRoleBinding ${CLUSTER_ADMINS_BINDING}: group ${CLUSTER_ADMINS_GROUP} (the admin certificate) → cluster-admin`,
    files: [secretFile(SUPER_ADMIN_KUBECONFIG, material.kubeconfig("super-admin"))],
    activate: [
      `trap 'rm -f ${SUPER_ADMIN_KUBECONFIG}' EXIT`,
      `${BIN_DIR}/kubectl create clusterrolebinding ${CLUSTER_ADMINS_BINDING} --clusterrole=cluster-admin --group=${CLUSTER_ADMINS_GROUP} --dry-run=client -o yaml | ${BIN_DIR}/kubectl --kubeconfig ${SUPER_ADMIN_KUBECONFIG} ${server} apply -f -`,
    ],
    // the admin's own binding: removable with the admin's own rights
    deactivate: [`${BIN_DIR}/kubectl --kubeconfig ${ADMIN_KUBECONFIG} ${server} delete clusterrolebinding ${CLUSTER_ADMINS_BINDING} --ignore-not-found >/dev/null 2>&1 || true`],
    healthGate: `kubectl apply of the binding as system:masters succeeds`,
  };
}

/** The cluster gate: every kubelet node has registered with the apiservers (Ready needs the CNI, later). */
export function planNodesRegistered(c: ClusterConfig): HostStepPlan {
  const first = nodesWith(c, "control-plane")[0];
  const names = kubeletNodes(c).map((n) => n.name).sort();
  const kubectl = `${BIN_DIR}/kubectl --kubeconfig ${ADMIN_KUBECONFIG}`;
  return {
    node: first.name,
    ip: first.ip,
    layer: "nodes-registered",
    description: `all ${names.length} nodes registered: ${names.join(", ")}`,
    files: [],
    activate: [
      `want=${names.join(",")}`,
      // every wanted node, not exactly these: a node being removed still has its Node object
      // until its own step (node-<name>) drains and deletes it, after this gate
      `registered() { have=$(${kubectl} get nodes -o jsonpath='{.items[*].metadata.name}' 2>/dev/null | tr ' ' '\\n' | sort | paste -sd, -); [[ $(comm -23 <(tr , '\\n' <<<"$want") <(tr , '\\n' <<<"$have") | wc -l) -eq 0 ]]; }`,
      "deadline=$((SECONDS + 300))",
      "until registered; do",
      '  if ((SECONDS >= deadline)); then echo "nodes registered after 300 s: ${have:-none}; expected: $want (see journalctl -u kubelet on the missing nodes)" >&2; exit 1; fi',
      "  sleep 3",
      "done",
      "# the Kubernetes provider's first request is the OpenAPI document, which an apiserver",
      "# builds on first use (over 32 s, the provider's timeout, on a slow guest): build it now",
      ...waitUntil(`${kubectl} --request-timeout 120s get --raw /openapi/v2`, 300, "the apiserver did not serve /openapi/v2 within 300 s (the Kubernetes provider needs it); see: journalctl -u kube-apiserver", 5),
    ],
    deactivate: [],
    healthGate: `kubectl get nodes lists ${names.join(", ")}; /openapi/v2 is served`,
  };
}

/** How long a drain may take before the removal stops with the pods that kept it. */
export const DRAIN_TIMEOUT_S = 300;

/** kubectl as admin on the first control-plane node (where the admin kubeconfig is). */
const adminKubectl = `${BIN_DIR}/kubectl --kubeconfig ${ADMIN_KUBECONFIG} --request-timeout 30s`;

/** Drains a node through the eviction API with a deadline; on failure says what held it and `consequence`, and fails. */
function drainNode(node: NodeSpec, o: { force: boolean; consequence: string }): string[] {
  const force = o.force ? " --force" : "";
  return [
    `if ! ${adminKubectl} drain ${shq(node.name)} --ignore-daemonsets --delete-emptydir-data${force} --timeout=${DRAIN_TIMEOUT_S}s >&2; then`,
    `  echo "the drain of ${node.name} did not finish in ${DRAIN_TIMEOUT_S} s (a PodDisruptionBudget or a pod that cannot be evicted holds it): see kubectl get pods -A -o wide --field-selector spec.nodeName=${node.name}; ${o.consequence}" >&2`,
    "  exit 1",
    "fi",
  ];
}

/**
 * A node's membership of the cluster, kept from the first control-plane node with the
 * admin kubeconfig. Create: wait until the node has registered (a kubelet registers its Node
 * schedulable; the create never uncordons, so a program update that re-runs it in place
 * leaves a node cordoned by hand cordoned — only the upgrade's uncordon step, and only for a
 * node the upgrade drained, uncordons). Delete — when the node leaves the config, before its kubelet, runtime and VM
 * go — cordon it, drain it through the eviction API (PodDisruptionBudgets are respected;
 * DaemonSet pods stay; pods without a controller are deleted, as the node's removal would;
 * bounded time, then the step fails naming what blocked it) and delete
 * its Node object. In a whole `pulumi destroy` the control plane goes too and the drain is
 * skipped (the step is deleted with the cluster).
 */
export function planNodeMembership(c: ClusterConfig, node: NodeSpec): HostStepPlan {
  const first = nodesWith(c, "control-plane")[0];
  const name = shq(node.name);
  return {
    node: first.name,
    ip: first.ip,
    layer: "node",
    description: `${node.name} is a member of the cluster (drained and removed when it leaves the config)`,
    files: [],
    activate: [
      ...waitUntil(`${adminKubectl} get node ${name}`, 300, `node ${node.name} has not registered 300 s after its kubelet started; see: journalctl -u kubelet on ${node.name}`, 3),
    ],
    deactivate: [
      `if ${adminKubectl} get node ${name} >/dev/null 2>&1; then`,
      `  ${adminKubectl} cordon ${name} >/dev/null`,
      "  # --force: pods no controller manages cannot outlive the node anyway",
      ...drainNode(node, { force: true, consequence: "the node stays cordoned" }).map((l) => `  ${l}`),
      `  ${adminKubectl} delete node ${name} --ignore-not-found >/dev/null`,
      "fi",
    ],
    healthGate: `the Node object ${node.name} exists`,
    identity: [node.name],
  };
}

/** Marks a node drained by an upgrade (so that only such a node is uncordoned after it). */
export const DRAINED_FOR_ANNOTATION = "k8s-lab.io/drained-for-upgrade-to";

/**
 * Before a node's kubelet moves to another Kubernetes release: cordon and drain it, from
 * the first control-plane node (the eviction API, PodDisruptionBudgets respected, bounded
 * time). Only when the node's running kubelet reports another version: nothing on a first
 * `up` (no Node yet) or when the version is already there. Triggered by the release alone
 * (`runs`), so a kubelet configuration change does not drain.
 */
export function planUpgradeDrain(c: ClusterConfig, node: NodeSpec): HostStepPlan {
  const first = nodesWith(c, "control-plane")[0];
  const name = shq(node.name);
  const target = `v${c.versions.kubernetes}`;
  return {
    node: first.name,
    ip: first.ip,
    layer: "upgrade-drain",
    description: `drain ${node.name} before its kubelet moves to ${target} (only if it runs another version)`,
    files: [],
    activate: [
      `running=$(${adminKubectl} get node ${name} -o jsonpath='{.status.nodeInfo.kubeletVersion}' 2>/dev/null || true)`,
      `if [[ -z $running || $running == ${target} ]]; then exit 0; fi`,
      `echo "${node.name}: kubelet $running → ${target}: cordon and drain" >&2`,
      `${adminKubectl} annotate node ${name} --overwrite ${DRAINED_FOR_ANNOTATION}=${target} >/dev/null`,
      `${adminKubectl} cordon ${name} >/dev/null`,
      ...drainNode(node, { force: false, consequence: "the node stays cordoned and its kubelet is not upgraded" }),
    ],
    deactivate: [],
    runs: releasesRun(c, node, ["kubernetes"]),
    healthGate: `${node.name} cordoned and drained, or already on ${target}`,
  };
}

/**
 * After a node's kubelet and kube-proxy moved to the release: wait until the Node reports
 * it, then uncordon the node if the upgrade drained it (a node cordoned by hand stays so).
 */
export function planUpgradeUncordon(c: ClusterConfig, node: NodeSpec): HostStepPlan {
  const first = nodesWith(c, "control-plane")[0];
  const name = shq(node.name);
  const target = `v${c.versions.kubernetes}`;
  const annotation = DRAINED_FOR_ANNOTATION.replaceAll(".", "\\.");
  return {
    node: first.name,
    ip: first.ip,
    layer: "upgrade-uncordon",
    description: `uncordon ${node.name} once its kubelet reports ${target} (only if the upgrade drained it)`,
    files: [],
    activate: [
      ...waitUntil(
        `[[ $(${adminKubectl} get node ${name} -o jsonpath='{.status.nodeInfo.kubeletVersion}') == ${target} ]]`,
        300,
        `node ${node.name} does not report kubelet ${target} 300 s after its kubelet restarted; see: journalctl -u kubelet on ${node.name}`,
        3,
      ),
      `if [[ -n $(${adminKubectl} get node ${name} -o jsonpath='{.metadata.annotations.${annotation}}') ]]; then`,
      `  ${adminKubectl} uncordon ${name} >/dev/null`,
      `  ${adminKubectl} annotate node ${name} ${DRAINED_FOR_ANNOTATION}- >/dev/null`,
      `  echo "${node.name}: on ${target}, uncordoned" >&2`,
      "fi",
    ],
    deactivate: [],
    runs: releasesRun(c, node, ["kubernetes"]),
    healthGate: `${node.name} reports kubelet ${target}; uncordoned if the upgrade drained it`,
  };
}
