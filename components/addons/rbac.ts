// The kubelet-API RBAC: lets kube-apiserver's kubelet-client identity reach the kubelets
// (logs, exec, port-forward). Pure. Depends on: addons/objects, pki/plan.
import type * as k8s from "@pulumi/kubernetes";
import { APISERVER_KUBELET_CLIENT_USER } from "../pki/plan";
import { AddonGroup, obj } from "./objects";

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
