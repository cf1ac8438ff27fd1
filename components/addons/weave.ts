// weave-net from the maintained community fork, with the iptables backend pinned to the
// nodes' (nft). Pure. Depends on: addons/objects, config.
import type * as k8s from "@pulumi/kubernetes";
import { ClusterConfig, WEAVE_IPTABLES_BACKEND } from "../config";
import { AddonGroup, KUBE_SYSTEM, hostPath, obj } from "./objects";

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
  // weave's launch.sh asks for this ConfigMap's UID (the cluster's ID) before anything of
  // weave creates it, so upstream's manifest makes every weave pod of a new cluster exit once
  // ("Unable to fetch ConfigMap kube-system/weave-net to infer unique cluster ID",
  // weaveworks/weave#3990). It exists before the DaemonSet (prerequisitesOf); weave keeps its
  // peer list in its annotations, so it is shared with weave, not owned: applied server-side,
  // it is taken over where weave made it (a lab of an earlier version) and left to weave when
  // the plan drops it.
  const clusterId = obj("v1", "ConfigMap", { metadata: meta });
  return {
    name: "cni",
    sharedWithWorkload: [clusterId],
    objects: [
      obj("v1", "ServiceAccount", { metadata: meta }),
      clusterId,
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
