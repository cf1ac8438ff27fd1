// Addon planning: every Kubernetes object the lab applies through the API, as typed data
// — the kubelet-API RBAC for kube-apiserver, the pod network (weave-net from the
// maintained community fork, or flannel), CoreDNS and the Kubernetes Dashboard v2.7.0 with
// a login account. Nothing is fetched at run time. The component ships these objects;
// the render command prints them; the tests validate them against the OpenAPI schemas.
// Depends on: config, pki (the kubelet-client identity).
import type * as k8s from "@pulumi/kubernetes";
import { ClusterConfig, WEAVE_IPTABLES_BACKEND } from "../config";
import { APISERVER_KUBELET_CLIENT_USER } from "../pki/plan";

/** A Kubernetes object with its apiVersion and kind, plain data. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

export interface AddonGroup {
  /** rbac, cni, coredns, dashboard. */
  name: string;
  objects: K8sObject[];
}

const obj = <T extends { metadata?: unknown }>(apiVersion: string, kind: string, body: T): K8sObject => ({ apiVersion, kind, ...body }) as unknown as K8sObject;

const KUBE_SYSTEM = "kube-system";
const DASHBOARD_NS = "kubernetes-dashboard";
export const DASHBOARD_LOGIN = "dashboard-login";
export const DASHBOARD_LOGIN_TOKEN = `${DASHBOARD_LOGIN}-token`;

export function kubeletApiRbac(): AddonGroup {
  return {
    name: "rbac",
    objects: [
      obj("rbac.authorization.k8s.io/v1", "ClusterRole", {
        metadata: { name: "system:kube-apiserver-to-kubelet", labels: { "kubernetes.io/bootstrapping": "rbac-defaults" } },
        rules: [{ apiGroups: [""], resources: ["nodes/proxy", "nodes/stats", "nodes/log", "nodes/spec", "nodes/metrics", "nodes/configz", "nodes/healthz"], verbs: ["*"] }],
      } satisfies k8s.types.input.rbac.v1.ClusterRole & { metadata: { name: string } }),
      obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", {
        metadata: { name: "system:kube-apiserver" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:kube-apiserver-to-kubelet" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: APISERVER_KUBELET_CLIENT_USER }],
      } satisfies k8s.types.input.rbac.v1.ClusterRoleBinding & { metadata: { name: string } }),
    ],
  };
}

const hostPath = (name: string, path: string, type?: string) => ({ name, hostPath: { path, ...(type ? { type } : {}) } });

export function weaveNet(c: ClusterConfig): AddonGroup {
  const labels = { name: "weave-net" };
  const meta = { name: "weave-net", namespace: KUBE_SYSTEM, labels };
  const nodeNameEnv = { name: "HOSTNAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } };
  const xtables = { name: "xtables-lock", mountPath: "/run/xtables.lock", readOnly: false };
  const backendEnv = { name: "IPTABLES_BACKEND", value: WEAVE_IPTABLES_BACKEND };
  const ds: k8s.types.input.apps.v1.DaemonSet & { metadata: { name: string } } = {
    metadata: meta,
    spec: {
      selector: { matchLabels: labels },
      minReadySeconds: 5,
      updateStrategy: { type: "RollingUpdate" },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          dnsPolicy: "ClusterFirstWithHostNet",
          priorityClassName: "system-node-critical",
          serviceAccountName: "weave-net",
          restartPolicy: "Always",
          tolerations: [{ operator: "Exists", effect: "NoSchedule" }, { operator: "Exists", effect: "NoExecute" }],
          initContainers: [
            {
              name: "weave-init",
              image: c.images.weaveKube,
              command: ["/home/weave/init.sh"],
              env: [backendEnv],
              securityContext: { privileged: true },
              volumeMounts: [
                { name: "cni-bin", mountPath: "/host/opt" },
                { name: "cni-bin2", mountPath: "/host/home" },
                { name: "cni-conf", mountPath: "/host/etc" },
                { name: "lib-modules", mountPath: "/lib/modules" },
                xtables,
              ],
            },
          ],
          containers: [
            {
              name: "weave",
              image: c.images.weaveKube,
              command: ["/home/weave/launch.sh"],
              env: [
                // weave's default 10.32.0.0/12 overlaps common service ranges: always the pod CIDR
                { name: "IPALLOC_RANGE", value: c.network.podCidr },
                { name: "INIT_CONTAINER", value: "true" },
                { name: "CHECKPOINT_DISABLE", value: "1" },
                backendEnv,
                nodeNameEnv,
              ],
              readinessProbe: { httpGet: { host: "127.0.0.1", path: "/status", port: 6784 } },
              resources: { requests: { cpu: "50m", memory: "100Mi" } },
              securityContext: { privileged: true },
              volumeMounts: [
                { name: "weavedb", mountPath: "/weavedb" },
                { name: "dbus", mountPath: "/host/var/lib/dbus", readOnly: true },
                { name: "cni-machine-id", mountPath: "/host/etc/machine-id", readOnly: true },
                xtables,
              ],
            },
            {
              name: "weave-npc",
              image: c.images.weaveNpc,
              env: [backendEnv, nodeNameEnv],
              resources: { requests: { cpu: "50m", memory: "50Mi" } },
              securityContext: { privileged: true },
              volumeMounts: [xtables],
            },
          ],
          volumes: [
            hostPath("weavedb", "/var/lib/weave"),
            hostPath("cni-bin", "/opt"),
            hostPath("cni-bin2", "/home"),
            hostPath("cni-conf", "/etc"),
            hostPath("cni-machine-id", "/etc/machine-id"),
            hostPath("dbus", "/var/lib/dbus"),
            hostPath("lib-modules", "/lib/modules"),
            hostPath("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
          ],
        },
      },
    },
  };
  return {
    name: "cni",
    objects: [
      obj("v1", "ServiceAccount", { metadata: meta }),
      obj("rbac.authorization.k8s.io/v1", "ClusterRole", {
        metadata: { name: "weave-net", labels },
        rules: [
          { apiGroups: [""], resources: ["pods", "namespaces", "nodes"], verbs: ["get", "list", "watch"] },
          { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get", "list", "watch"] },
          { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch", "update"] },
        ],
      }),
      obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", {
        metadata: { name: "weave-net", labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "weave-net" },
        subjects: [{ kind: "ServiceAccount", name: "weave-net", namespace: KUBE_SYSTEM }],
      }),
      obj("rbac.authorization.k8s.io/v1", "Role", {
        metadata: meta,
        rules: [
          { apiGroups: [""], resources: ["configmaps"], resourceNames: ["weave-net"], verbs: ["get", "update"] },
          { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
        ],
      }),
      obj("rbac.authorization.k8s.io/v1", "RoleBinding", {
        metadata: meta,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "weave-net" },
        subjects: [{ kind: "ServiceAccount", name: "weave-net", namespace: KUBE_SYSTEM }],
      }),
      obj("apps/v1", "DaemonSet", ds),
    ],
  };
}

/** flannel's network config: the pod CIDR, vxlan. */
export function flannelNetConf(c: ClusterConfig): string {
  return JSON.stringify({ Network: c.network.podCidr, EnableNFTables: c.network.kubeProxyMode === "nftables", Backend: { Type: "vxlan" } }, null, 2);
}

export function flannel(c: ClusterConfig): AddonGroup {
  const ns = "kube-flannel";
  const labels = { app: "flannel", "k8s-app": "flannel", tier: "node" };
  const cniConf = {
    name: "cbr0",
    cniVersion: "0.3.1",
    plugins: [{ type: "flannel", delegate: { hairpinMode: true, isDefaultGateway: true } }, { type: "portmap", capabilities: { portMappings: true } }],
  };
  const ds: k8s.types.input.apps.v1.DaemonSet & { metadata: { name: string } } = {
    metadata: { name: "kube-flannel-ds", namespace: ns, labels },
    spec: {
      selector: { matchLabels: { app: "flannel" } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          priorityClassName: "system-node-critical",
          serviceAccountName: "flannel",
          tolerations: [{ operator: "Exists", effect: "NoSchedule" }],
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/os", operator: "In", values: ["linux"] }] }] } } },
          initContainers: [
            { name: "install-cni-plugin", image: c.images.flannelCniPlugin, command: ["cp"], args: ["-f", "/flannel", "/opt/cni/bin/flannel"], volumeMounts: [{ name: "cni-plugin", mountPath: "/opt/cni/bin" }] },
            { name: "install-cni", image: c.images.flannel, command: ["cp"], args: ["-f", "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist"], volumeMounts: [{ name: "cni", mountPath: "/etc/cni/net.d" }, { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" }] },
          ],
          containers: [
            {
              name: "kube-flannel",
              image: c.images.flannel,
              command: ["/opt/bin/flanneld"],
              args: ["--ip-masq", "--kube-subnet-mgr"],
              resources: { requests: { cpu: "100m", memory: "50Mi" } },
              securityContext: { privileged: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
              env: [
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                { name: "EVENT_QUEUE_DEPTH", value: "5000" },
              ],
              volumeMounts: [{ name: "run", mountPath: "/run/flannel" }, { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" }, { name: "xtables-lock", mountPath: "/run/xtables.lock" }],
            },
          ],
          volumes: [
            hostPath("run", "/run/flannel"),
            hostPath("cni-plugin", "/opt/cni/bin"),
            hostPath("cni", "/etc/cni/net.d"),
            { name: "flannel-cfg", configMap: { name: "kube-flannel-cfg" } },
            hostPath("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
          ],
        },
      },
    },
  };
  return {
    name: "cni",
    objects: [
      obj("v1", "Namespace", { metadata: { name: ns, labels: { "pod-security.kubernetes.io/enforce": "privileged" } } }),
      obj("v1", "ServiceAccount", { metadata: { name: "flannel", namespace: ns } }),
      obj("rbac.authorization.k8s.io/v1", "ClusterRole", {
        metadata: { name: "flannel" },
        rules: [
          { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
          { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
          { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch"] },
        ],
      }),
      obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", {
        metadata: { name: "flannel" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "flannel" },
        subjects: [{ kind: "ServiceAccount", name: "flannel", namespace: ns }],
      }),
      obj("v1", "ConfigMap", {
        metadata: { name: "kube-flannel-cfg", namespace: ns, labels },
        data: { "cni-conf.json": JSON.stringify(cniConf, null, 2), "net-conf.json": flannelNetConf(c) },
      }),
      obj("apps/v1", "DaemonSet", ds),
    ],
  };
}

/** The Corefile: the cluster domain, and everything else to the node's real upstream resolvers. */
export function corefile(c: ClusterConfig): string {
  return [
    ".:53 {",
    "    errors",
    "    health {",
    "        lameduck 5s",
    "    }",
    "    ready",
    `    kubernetes ${c.domain} in-addr.arpa ip6.arpa {`,
    "        pods insecure",
    "        fallthrough in-addr.arpa ip6.arpa",
    "        ttl 30",
    "    }",
    "    prometheus :9153",
    "    # the pod's resolv.conf (dnsPolicy: Default) is the kubelet's resolvConf: the real upstream resolvers, not systemd-resolved's stub",
    "    forward . /etc/resolv.conf {",
    "        max_concurrent 1000",
    "    }",
    "    cache 30",
    "    loop",
    "    reload",
    "    loadbalance",
    "}",
    "",
  ].join("\n");
}

export function coredns(c: ClusterConfig): AddonGroup {
  const labels = { "k8s-app": "kube-dns" };
  const deployment: k8s.types.input.apps.v1.Deployment & { metadata: { name: string } } = {
    metadata: { name: "coredns", namespace: KUBE_SYSTEM, labels },
    spec: {
      replicas: 2,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          priorityClassName: "system-cluster-critical",
          serviceAccountName: "coredns",
          dnsPolicy: "Default",
          tolerations: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }, { key: "CriticalAddonsOnly", operator: "Exists" }],
          nodeSelector: { "kubernetes.io/os": "linux" },
          // the two replicas on different nodes
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: labels } }],
          containers: [
            {
              name: "coredns",
              image: c.images.coredns,
              imagePullPolicy: "IfNotPresent",
              args: ["-conf", "/etc/coredns/Corefile"],
              resources: { limits: { memory: "170Mi" }, requests: { cpu: "100m", memory: "70Mi" } },
              volumeMounts: [{ name: "config-volume", mountPath: "/etc/coredns", readOnly: true }],
              ports: [
                { name: "dns", containerPort: 53, protocol: "UDP" },
                { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                { name: "metrics", containerPort: 9153, protocol: "TCP" },
              ],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] }, readOnlyRootFilesystem: true },
              livenessProbe: { httpGet: { path: "/health", port: 8080, scheme: "HTTP" }, initialDelaySeconds: 60, timeoutSeconds: 5, failureThreshold: 5 },
              readinessProbe: { httpGet: { path: "/ready", port: 8181, scheme: "HTTP" } },
            },
          ],
          volumes: [{ name: "config-volume", configMap: { name: "coredns", items: [{ key: "Corefile", path: "Corefile" }] } }],
        },
      },
    },
  };
  return {
    name: "coredns",
    objects: [
      obj("v1", "ServiceAccount", { metadata: { name: "coredns", namespace: KUBE_SYSTEM } }),
      obj("rbac.authorization.k8s.io/v1", "ClusterRole", {
        metadata: { name: "system:coredns", labels: { "kubernetes.io/bootstrapping": "rbac-defaults" } },
        rules: [
          { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
          { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
        ],
      }),
      obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", {
        metadata: { name: "system:coredns", labels: { "kubernetes.io/bootstrapping": "rbac-defaults" } },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:coredns" },
        subjects: [{ kind: "ServiceAccount", name: "coredns", namespace: KUBE_SYSTEM }],
      }),
      obj("v1", "ConfigMap", { metadata: { name: "coredns", namespace: KUBE_SYSTEM }, data: { Corefile: corefile(c) } }),
      obj("apps/v1", "Deployment", deployment),
      obj("v1", "Service", {
        metadata: { name: "kube-dns", namespace: KUBE_SYSTEM, labels: { ...labels, "kubernetes.io/name": "CoreDNS" }, annotations: { "prometheus.io/port": "9153", "prometheus.io/scrape": "true" } },
        spec: {
          selector: labels,
          clusterIP: c.network.clusterDnsIp,
          ports: [
            { name: "dns", port: 53, protocol: "UDP" },
            { name: "dns-tcp", port: 53, protocol: "TCP" },
            { name: "metrics", port: 9153, protocol: "TCP" },
          ],
        },
      } satisfies k8s.types.input.core.v1.Service & { metadata: { name: string } }),
    ],
  };
}

/** One of the dashboard's two Deployments: one replica, its service account, a /tmp volume. */
function dashboardDeployment(
  name: string,
  labels: Record<string, string>,
  container: k8s.types.input.core.v1.Container,
  volumes: k8s.types.input.core.v1.Volume[] = [],
): K8sObject {
  const deployment: k8s.types.input.apps.v1.Deployment & { metadata: { name: string } } = {
    metadata: { name, namespace: DASHBOARD_NS, labels },
    spec: {
      replicas: 1,
      revisionHistoryLimit: 10,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          serviceAccountName: "kubernetes-dashboard",
          nodeSelector: { "kubernetes.io/os": "linux" },
          tolerations: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
          containers: [container],
          volumes: [...volumes, { name: "tmp-volume", emptyDir: {} }],
        },
      },
    },
  };
  return obj("apps/v1", "Deployment", deployment);
}

/** Kubernetes Dashboard v2.7.0 (the last manifest-based release; the project is archived) and a login account. */
export function dashboard(c: ClusterConfig): AddonGroup {
  const ns = DASHBOARD_NS;
  const labels = { "k8s-app": "kubernetes-dashboard" };
  const scraperLabels = { "k8s-app": "dashboard-metrics-scraper" };
  const restricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsUser: 1001, runAsGroup: 2001 };
  const secret = (name: string, extra: Record<string, unknown> = {}) => obj("v1", "Secret", { metadata: { name, namespace: ns, labels }, type: "Opaque", ...extra });
  return {
    name: "dashboard",
    objects: [
      obj("v1", "Namespace", { metadata: { name: ns } }),
      obj("v1", "ServiceAccount", { metadata: { name: "kubernetes-dashboard", namespace: ns, labels } }),
      obj("v1", "Service", { metadata: { name: "kubernetes-dashboard", namespace: ns, labels }, spec: { ports: [{ port: 443, targetPort: 8443 }], selector: labels } }),
      secret("kubernetes-dashboard-certs"),
      secret("kubernetes-dashboard-csrf", { data: { csrf: "" } }),
      secret("kubernetes-dashboard-key-holder"),
      obj("v1", "ConfigMap", { metadata: { name: "kubernetes-dashboard-settings", namespace: ns, labels } }),
      obj("rbac.authorization.k8s.io/v1", "Role", {
        metadata: { name: "kubernetes-dashboard", namespace: ns, labels },
        rules: [
          { apiGroups: [""], resources: ["secrets"], resourceNames: ["kubernetes-dashboard-key-holder", "kubernetes-dashboard-certs", "kubernetes-dashboard-csrf"], verbs: ["get", "update", "delete"] },
          { apiGroups: [""], resources: ["configmaps"], resourceNames: ["kubernetes-dashboard-settings"], verbs: ["get", "update"] },
          { apiGroups: [""], resources: ["services"], resourceNames: ["heapster", "dashboard-metrics-scraper"], verbs: ["proxy"] },
          { apiGroups: [""], resources: ["services/proxy"], resourceNames: ["heapster", "http:heapster:", "https:heapster:", "dashboard-metrics-scraper", "http:dashboard-metrics-scraper"], verbs: ["get"] },
        ],
      }),
      obj("rbac.authorization.k8s.io/v1", "ClusterRole", {
        metadata: { name: "kubernetes-dashboard", labels },
        rules: [{ apiGroups: ["metrics.k8s.io"], resources: ["pods", "nodes"], verbs: ["get", "list", "watch"] }],
      }),
      obj("rbac.authorization.k8s.io/v1", "RoleBinding", {
        metadata: { name: "kubernetes-dashboard", namespace: ns, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "kubernetes-dashboard" },
        subjects: [{ kind: "ServiceAccount", name: "kubernetes-dashboard", namespace: ns }],
      }),
      obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", {
        metadata: { name: "kubernetes-dashboard", labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "kubernetes-dashboard" },
        subjects: [{ kind: "ServiceAccount", name: "kubernetes-dashboard", namespace: ns }],
      }),
      dashboardDeployment("kubernetes-dashboard", labels, {
        name: "kubernetes-dashboard",
        image: c.images.dashboard,
        imagePullPolicy: "IfNotPresent",
        ports: [{ containerPort: 8443, protocol: "TCP" }],
        args: ["--auto-generate-certificates", `--namespace=${ns}`],
        volumeMounts: [{ name: "kubernetes-dashboard-certs", mountPath: "/certs" }, { name: "tmp-volume", mountPath: "/tmp" }],
        livenessProbe: { httpGet: { scheme: "HTTPS", path: "/", port: 8443 }, initialDelaySeconds: 30, timeoutSeconds: 30 },
        securityContext: restricted,
      }, [{ name: "kubernetes-dashboard-certs", secret: { secretName: "kubernetes-dashboard-certs" } }]),
      obj("v1", "Service", { metadata: { name: "dashboard-metrics-scraper", namespace: ns, labels: scraperLabels }, spec: { ports: [{ port: 8000, targetPort: 8000 }], selector: scraperLabels } }),
      dashboardDeployment("dashboard-metrics-scraper", scraperLabels, {
        name: "dashboard-metrics-scraper",
        image: c.images.dashboardMetricsScraper,
        ports: [{ containerPort: 8000, protocol: "TCP" }],
        livenessProbe: { httpGet: { scheme: "HTTP", path: "/", port: 8000 }, initialDelaySeconds: 30, timeoutSeconds: 30 },
        volumeMounts: [{ mountPath: "/tmp", name: "tmp-volume" }],
        securityContext: restricted,
      }),
      // the login account: read-only unless config asks for cluster-admin, with a long-lived token
      // (token Secrets are not created automatically since Kubernetes 1.24)
      ...loginAccount(c, ns, DASHBOARD_LOGIN),
    ],
  };
}

export const HEADLAMP_NS = "headlamp";
export const HEADLAMP_LOGIN = "headlamp-login";

/** A login account with a long-lived token, bound to the configured role (view unless cluster-admin is asked for). */
function loginAccount(c: ClusterConfig, ns: string, name: string): K8sObject[] {
  return [
    obj("v1", "ServiceAccount", { metadata: { name, namespace: ns } }),
    obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: c.addons.dashboardLoginRole },
      subjects: [{ kind: "ServiceAccount", name, namespace: ns }],
    }),
    obj("v1", "Secret", { metadata: { name: `${name}-token`, namespace: ns, annotations: { "kubernetes.io/service-account.name": name } }, type: "kubernetes.io/service-account-token" }),
  ];
}

/** Headlamp, a maintained web UI: it acts with the token the user logs in with. */
export function headlamp(c: ClusterConfig): AddonGroup {
  const labels = { "k8s-app": "headlamp" };
  const deployment: k8s.types.input.apps.v1.Deployment & { metadata: { name: string } } = {
    metadata: { name: "headlamp", namespace: HEADLAMP_NS, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: "headlamp",
          nodeSelector: { "kubernetes.io/os": "linux" },
          securityContext: { runAsNonRoot: true, runAsUser: 100, runAsGroup: 101, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "headlamp",
              image: c.images.headlamp,
              args: ["-in-cluster", "-plugins-dir=/headlamp/plugins"],
              ports: [{ containerPort: 4466, protocol: "TCP" }],
              readinessProbe: { httpGet: { scheme: "HTTP", path: "/", port: 4466 }, initialDelaySeconds: 10 },
              livenessProbe: { httpGet: { scheme: "HTTP", path: "/", port: 4466 }, initialDelaySeconds: 30, timeoutSeconds: 30 },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            },
          ],
        },
      },
    },
  };
  return {
    name: "headlamp",
    objects: [
      obj("v1", "Namespace", { metadata: { name: HEADLAMP_NS } }),
      obj("v1", "ServiceAccount", { metadata: { name: "headlamp", namespace: HEADLAMP_NS } }),
      obj("v1", "Service", { metadata: { name: "headlamp", namespace: HEADLAMP_NS, labels }, spec: { ports: [{ port: 80, targetPort: 4466 }], selector: labels } }),
      obj("apps/v1", "Deployment", deployment),
      ...loginAccount(c, HEADLAMP_NS, HEADLAMP_LOGIN),
    ],
  };
}

/** Every addon group in the order they are applied: RBAC, CNI, then CoreDNS and the web UIs. */
export function planAddons(c: ClusterConfig): AddonGroup[] {
  // cni: bridge is host configuration (worker/pod-network), not an addon
  const groups = [kubeletApiRbac(), ...(c.addons.cni === "weave" ? [weaveNet(c)] : c.addons.cni === "flannel" ? [flannel(c)] : [])];
  if (c.addons.coredns) groups.push(coredns(c));
  if (c.addons.dashboard) groups.push(dashboard(c));
  if (c.addons.headlamp) groups.push(headlamp(c));
  return groups;
}

/** The Pulumi name of an object: kind, namespace and name, so it is unique and says what it is. */
export function resourceName(o: K8sObject): string {
  return [o.kind.toLowerCase(), o.metadata.namespace, o.metadata.name.replace(/:/g, "-")].filter(Boolean).join("-");
}

/** How long the machine running Pulumi waits for the admin endpoint to answer. */
export const API_REACHABLE_TIMEOUT_S = 300;

/**
 * The gate before the first addon, run on the machine running Pulumi (the Kubernetes
 * provider connects from there, not from a node, and does not retry): the admin endpoint
 * must accept TCP connections three times in a row. On slow TCG guests the first connection
 * right after the nodes registered failed with "no route to host" (seen in a real run).
 */
export function apiReachableScript(server: string, timeoutS = API_REACHABLE_TIMEOUT_S): string {
  const u = new URL(server);
  return [
    "set -euo pipefail",
    `host=${u.hostname} port=${u.port || 443} ok=0 deadline=$((SECONDS + ${timeoutS}))`,
    "while ((ok < 3)); do",
    '  if timeout 5 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; then ok=$((ok + 1)); else ok=0; fi',
    `  if ((SECONDS > deadline)); then echo "the Kubernetes API at $host:$port does not answer from this machine after ${timeoutS} s (the addons are applied from here)" >&2; exit 1; fi`,
    "  sleep 2",
    "done",
  ].join("\n");
}

/** One object that must exist before another, and why. */
export interface ObjectPrerequisite {
  object: K8sObject;
  reason: string;
}

const sameObject = (a: K8sObject, kind: string, name: string, namespace?: string) => a.kind === kind && a.metadata.name === name && a.metadata.namespace === namespace;

/**
 * The planned objects `o` needs to exist first. The API server rejects a namespaced object
 * whose Namespace does not exist yet; a service-account token Secret created before its
 * ServiceAccount is deleted by the token controller, and Pulumi would never recreate it.
 */
export function prerequisitesOf(o: K8sObject, planned: readonly K8sObject[]): ObjectPrerequisite[] {
  const out: ObjectPrerequisite[] = [];
  const ns = o.metadata.namespace;
  if (ns) {
    const namespace = planned.find((p) => sameObject(p, "Namespace", ns));
    if (namespace) out.push({ object: namespace, reason: `its namespace ${ns} must exist` });
  }
  const sa = (o.metadata.annotations as Record<string, string> | undefined)?.["kubernetes.io/service-account.name"];
  if (o.kind === "Secret" && o.type === "kubernetes.io/service-account-token" && sa) {
    const account = planned.find((p) => sameObject(p, "ServiceAccount", sa, ns));
    if (!account) throw new Error(`addons: token Secret ${ns}/${o.metadata.name} names ServiceAccount ${sa}, which is not planned`);
    out.push({ object: account, reason: `a token Secret created before its ServiceAccount ${sa} is deleted by the token controller` });
  }
  return out;
}

/** Every container image the addons run. */
export function addonImageRefs(groups: AddonGroup[]): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) (k === "image" && typeof x === "string" ? out.add(x) : walk(x));
  };
  groups.forEach((g) => walk(g.objects));
  return [...out].sort();
}

/** How to reach Headlamp safely: a port-forward on localhost. */
export function headlampAccess(): { portForward: string; url: string; token: string } {
  return {
    portForward: `kubectl --kubeconfig admin.conf -n ${HEADLAMP_NS} port-forward svc/headlamp 4466:80`,
    url: "http://localhost:4466/",
    token: `kubectl --kubeconfig admin.conf -n ${HEADLAMP_NS} get secret ${HEADLAMP_LOGIN}-token -o jsonpath='{.data.token}' | base64 -d`,
  };
}

/** How to reach the dashboard safely: only on localhost, through the apiserver or a port-forward. */
export function dashboardAccess(): { portForward: string; url: string; token: string } {
  return {
    portForward: `kubectl --kubeconfig admin.conf -n ${DASHBOARD_NS} port-forward svc/kubernetes-dashboard 8443:443`,
    url: "https://localhost:8443/",
    token: `kubectl --kubeconfig admin.conf -n ${DASHBOARD_NS} get secret ${DASHBOARD_LOGIN_TOKEN} -o jsonpath='{.data.token}' | base64 -d`,
  };
}
