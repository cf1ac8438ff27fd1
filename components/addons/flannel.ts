// flannel (vxlan) with its CNI plugin, on the pod CIDR the controller-manager allocates
// from. Pure. Depends on: addons/objects, config.
import type * as k8s from "@pulumi/kubernetes";
import { ClusterConfig } from "../config";
import { AddonGroup, hostPath, obj } from "./objects";

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
