// Addons layer (shipping): the gate on the machine running Pulumi that waits until the
// admin endpoint answers there (the provider connects from there and does not retry), the
// explicit provider built from the admin kubeconfig (never the ambient KUBECONFIG;
// `deleteUnreachable` lets `pulumi destroy` finish when the VMs are already gone), and each
// planned object as a typed @pulumi/kubernetes resource. Which objects, in which order, is
// the cluster plan's. Depends on: addons/plan, @pulumi/kubernetes, @pulumi/command.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as command from "@pulumi/command";
import { K8sObject } from "./plan";

export * from "./plan";

type Ctor = new (name: string, args: any, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** The typed resource class for each apiVersion/kind the plans use; anything else is a programming error. */
const KINDS: Record<string, Ctor> = {
  "v1/Namespace": k8s.core.v1.Namespace,
  "v1/ServiceAccount": k8s.core.v1.ServiceAccount,
  "v1/ConfigMap": k8s.core.v1.ConfigMap,
  "v1/Secret": k8s.core.v1.Secret,
  "v1/Service": k8s.core.v1.Service,
  "apps/v1/Deployment": k8s.apps.v1.Deployment,
  "apps/v1/DaemonSet": k8s.apps.v1.DaemonSet,
  "rbac.authorization.k8s.io/v1/ClusterRole": k8s.rbac.v1.ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": k8s.rbac.v1.ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": k8s.rbac.v1.Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": k8s.rbac.v1.RoleBinding,
};

/**
 * The patch class for an object shared with the workload that writes it too: server-side
 * apply creates it when absent and takes it over when present (a plain resource's create
 * fails with AlreadyExists there); deleting the patch gives up its fields and leaves the object.
 */
const SHARED_KINDS: Record<string, Ctor> = {
  "v1/ConfigMap": k8s.core.v1.ConfigMapPatch,
};

/** The admin endpoint answers from the machine running Pulumi; the provider waits for it. */
export function apiReachableGate(name: string, script: string, triggers: string[], opts: pulumi.CustomResourceOptions): command.local.Command {
  return new command.local.Command(name, { interpreter: ["/bin/bash", "-c"], create: "bash -s", stdin: script, triggers, addPreviousOutputInEnv: false }, opts);
}

/**
 * The provider every object uses: the admin kubeconfig (secret) and nothing ambient.
 * Configure it only once the cluster answers (dependsOn the gate): a provider configured
 * while the VMs are still booting caches "cluster unreachable" for the whole run (seen in a
 * real first up: every addon failed with "no route to host" although the API answered).
 */
export function apiProvider(name: string, kubeconfig: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): k8s.Provider {
  return new k8s.Provider(
    name,
    {
      kubeconfig: pulumi.secret(kubeconfig),
      deleteUnreachable: true,
      enableServerSideApply: true,
      // a lab apiserver on a slow guest takes longer than the default 32 s to send its
      // OpenAPI document to several requests at once (seen on TCG guests)
      kubeClientSettings: { timeout: 120 },
    },
    opts,
  );
}

/**
 * How long the provider awaits an object (a Deployment's replicas ready, a Service's
 * endpoints). Its default, 10 minutes, is not enough on a lab of TCG guests: CoreDNS took
 * 605 s on the 2-core machine of the e2e run (run 9), while the controller-manager and
 * scheduler lost their leases every few minutes under the load.
 */
export const AWAIT_TIMEOUTS: pulumi.CustomTimeouts = { create: "25m", update: "25m" };

/** One planned object as its typed resource (its patch resource when shared with its workload). */
export function applyObject(name: string, o: K8sObject, provider: pulumi.ProviderResource, opts: pulumi.CustomResourceOptions, sharedWithWorkload = false): pulumi.CustomResource {
  const ctor = (sharedWithWorkload ? SHARED_KINDS : KINDS)[`${o.apiVersion}/${o.kind}`];
  if (!ctor) throw new Error(`addons: no typed ${sharedWithWorkload ? "patch " : ""}resource for ${o.apiVersion} ${o.kind}`);
  return new ctor(name, o, { customTimeouts: AWAIT_TIMEOUTS, ...opts, provider });
}
