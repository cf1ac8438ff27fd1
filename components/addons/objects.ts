// Addon objects as plain data: the object type, the helpers the addons share (a login
// account, a hostPath volume), each object's Pulumi name, what must exist before an object
// (its Namespace, a token Secret's ServiceAccount) and the images the addons run.
// Pure. Depends on: config.
import { ClusterConfig } from "../config";

/** A Kubernetes object with its apiVersion and kind, plain data. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

export interface AddonGroup {
  /** rbac, cni, coredns, dashboard. */
  name: string;
  objects: K8sObject[];
  /**
   * Those of `objects` the group's workload writes too (weave-net's peer list in its
   * ConfigMap): made sure to exist with server-side apply, which creates one that is absent
   * and takes over one that is there; dropped from the plan, it is left to the workload.
   */
  sharedWithWorkload?: K8sObject[];
}

export const obj = <T extends { metadata?: unknown }>(apiVersion: string, kind: string, body: T): K8sObject => ({ apiVersion, kind, ...body }) as unknown as K8sObject;

export const KUBE_SYSTEM = "kube-system";

export const hostPath = (name: string, path: string, type?: string) => ({ name, hostPath: { path, ...(type ? { type } : {}) } });

/** A login account with a long-lived token, bound to the configured role (view unless cluster-admin is asked for). */
export function loginAccount(c: ClusterConfig, ns: string, name: string): K8sObject[] {
  return [
    obj("v1", "ServiceAccount", { metadata: { name, namespace: ns } }),
    obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: c.addons.dashboardLoginRole },
      subjects: [{ kind: "ServiceAccount", name, namespace: ns }],
    }),
    // skipAwait: the kubernetes provider gives the token controller a fixed 5 s to fill the
    // Secret in; a busy controller-manager (emulated guests) failed the first up that way.
    // Nothing in the program reads the token: the stack's `token` command does, later.
    obj("v1", "Secret", {
      metadata: { name: `${name}-token`, namespace: ns, annotations: { "kubernetes.io/service-account.name": name, "pulumi.com/skipAwait": "true" } },
      type: "kubernetes.io/service-account-token",
    }),
  ];
}


/** The Pulumi name of an object: kind, namespace and name, so it is unique and says what it is. */
export function resourceName(o: K8sObject): string {
  return [o.kind.toLowerCase(), o.metadata.namespace, o.metadata.name.replace(/:/g, "-")].filter(Boolean).join("-");
}

/** One object that must exist before another, and why. */
export interface ObjectPrerequisite {
  object: K8sObject;
  reason: string;
}

const WORKLOADS = ["DaemonSet", "Deployment", "StatefulSet"];

const sameObject = (a: K8sObject, kind: string, name: string, namespace?: string) => a.kind === kind && a.metadata.name === name && a.metadata.namespace === namespace;

/**
 * The planned objects `o` needs to exist first. The API server rejects a namespaced object
 * whose Namespace does not exist yet; a service-account token Secret created before its
 * ServiceAccount is deleted by the token controller, and Pulumi would never recreate it.
 * A workload's own ConfigMap (same name, same namespace) comes first: started without it,
 * weave-net exits and CoreDNS waits for its volume.
 */
export function prerequisitesOf(o: K8sObject, planned: readonly K8sObject[]): ObjectPrerequisite[] {
  const out: ObjectPrerequisite[] = [];
  const ns = o.metadata.namespace;
  if (ns) {
    const namespace = planned.find((p) => sameObject(p, "Namespace", ns));
    if (namespace) out.push({ object: namespace, reason: `its namespace ${ns} must exist` });
  }
  if (WORKLOADS.includes(o.kind)) {
    const own = planned.find((p) => sameObject(p, "ConfigMap", o.metadata.name, ns));
    if (own) out.push({ object: own, reason: `a workload reads its own ConfigMap ${o.metadata.name} when it starts` });
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
