// CoreDNS: the cluster DNS Service on the configured IP and a Corefile that forwards the
// rest to the node's resolvers. Pure. Depends on: addons/objects, config.
import type * as k8s from "@pulumi/kubernetes";
import { ClusterConfig } from "../config";
import { AddonGroup, KUBE_SYSTEM, obj } from "./objects";

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
