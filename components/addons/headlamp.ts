// Headlamp, a maintained Kubernetes web UI, with a login account, and how to reach it
// from this machine only. Pure. Depends on: addons/objects, config.
import type * as k8s from "@pulumi/kubernetes";
import { ClusterConfig } from "../config";
import { AddonGroup, loginAccount, obj } from "./objects";

export const HEADLAMP_NS = "headlamp";
export const HEADLAMP_LOGIN = "headlamp-login";

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


/** How to reach Headlamp safely: a port-forward on localhost. */
export function headlampAccess(): { portForward: string; url: string; token: string } {
  return {
    portForward: `kubectl --kubeconfig admin.conf -n ${HEADLAMP_NS} port-forward svc/headlamp 4466:80`,
    url: "http://localhost:4466/",
    token: `kubectl --kubeconfig admin.conf -n ${HEADLAMP_NS} get secret ${HEADLAMP_LOGIN}-token -o jsonpath='{.data.token}' | base64 -d`,
  };
}
