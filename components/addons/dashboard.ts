// Kubernetes Dashboard v2.7.0 (archived upstream) with a login account, and how to reach
// it from this machine only. Pure. Depends on: addons/objects, config.
import type * as k8s from "@pulumi/kubernetes";
import { ClusterConfig, emulatedGuests } from "../config";
import { AddonGroup, K8sObject, loginAccount, obj } from "./objects";

export const DASHBOARD_NS = "kubernetes-dashboard";
export const DASHBOARD_LOGIN = "dashboard-login";
export const DASHBOARD_LOGIN_TOKEN = `${DASHBOARD_LOGIN}-token`;

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

/**
 * The dashboard's global settings (its ConfigMap's `_global` key: the whole settings object,
 * since a key it reads replaces every default), or none: upstream's defaults. Its front end asks
 * each list again every `resourceAutoRefreshTimeInterval` seconds (5) and drops the answer still
 * on its way when it asks again, so a list that takes longer than that never shows: on the TCG
 * lab its lists took 5-11 s one at a time and 40-80 s for a page's eight at once, and every list
 * stayed a spinner. Emulated guests (domainType qemu) turn the refresh off (0; a page reload or
 * another page asks again), for resource lists and logs alike.
 */
export function dashboardSettings(c: ClusterConfig): Record<string, unknown> | undefined {
  if (!emulatedGuests(c)) return undefined;
  return {
    clusterName: "",
    itemsPerPage: 10,
    labelsLimit: 3,
    logsAutoRefreshTimeInterval: 0,
    resourceAutoRefreshTimeInterval: 0,
    disableAccessDeniedNotifications: false,
    defaultNamespace: "default",
    namespaceFallbackList: ["default"],
  };
}

/** Kubernetes Dashboard v2.7.0 (the last manifest-based release; the project is archived) and a login account. */
export function dashboard(c: ClusterConfig): AddonGroup {
  const ns = DASHBOARD_NS;
  const labels = { "k8s-app": "kubernetes-dashboard" };
  const scraperLabels = { "k8s-app": "dashboard-metrics-scraper" };
  const restricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsUser: 1001, runAsGroup: 2001 };
  const settings = dashboardSettings(c);
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
      obj("v1", "ConfigMap", { metadata: { name: "kubernetes-dashboard-settings", namespace: ns, labels }, ...(settings ? { data: { _global: JSON.stringify(settings) } } : {}) }),
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


/** How to reach the dashboard safely: only on localhost, through the apiserver or a port-forward. */
export function dashboardAccess(): { portForward: string; url: string; token: string } {
  return {
    portForward: `kubectl --kubeconfig admin.conf -n ${DASHBOARD_NS} port-forward svc/kubernetes-dashboard 8443:443`,
    url: "https://localhost:8443/",
    token: `kubectl --kubeconfig admin.conf -n ${DASHBOARD_NS} get secret ${DASHBOARD_LOGIN_TOKEN} -o jsonpath='{.data.token}' | base64 -d`,
  };
}
