// Addons layer: applies the planned objects through the Kubernetes API with an explicit
// provider built from the admin kubeconfig (never the ambient KUBECONFIG), each object as
// a typed @pulumi/kubernetes resource: RBAC and the CNI first, then CoreDNS and the
// dashboard. A gate on the machine running Pulumi waits until the admin endpoint answers
// there first (the provider connects from there and does not retry). `deleteUnreachable`
// lets `pulumi destroy` finish when the VMs are already gone.
// Depends on: config, pki/plan (the admin endpoint), addons/plan, @pulumi/kubernetes, @pulumi/command.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as command from "@pulumi/command";
import { ClusterConfig } from "../config";
import { apiserverUrls } from "../pki/plan";
import { K8sObject, apiReachableScript, planAddons, prerequisitesOf, resourceName } from "./plan";

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

export interface AddonsArgs {
  /** The checked cluster model. */
  cluster: ClusterConfig;
  /** Admin kubeconfig (secret); the provider uses it and nothing else. */
  kubeconfig: pulumi.Input<string>;
  /** The cluster must be up first: every node registered. */
  after: pulumi.Input<pulumi.Resource>[];
}

export class Addons extends pulumi.ComponentResource {
  readonly provider: k8s.Provider;
  /** The admin endpoint answers from the machine running Pulumi; the provider and every object wait for it. */
  readonly apiReachable: command.local.Command;
  /** Every applied object by group (rbac, cni, coredns, dashboard). */
  readonly groups: Readonly<Record<string, pulumi.CustomResource[]>>;

  constructor(name: string, args: AddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("k8slab:addons:Addons", name, {}, opts);
    const server = apiserverUrls(args.cluster).external;
    this.apiReachable = new command.local.Command(
      "api-reachable",
      {
        interpreter: ["/bin/bash", "-c"],
        create: "bash -s",
        stdin: apiReachableScript(server),
        triggers: [server],
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: args.after },
    );
    this.provider = new k8s.Provider(
      `${args.cluster.name}-api`,
      {
        kubeconfig: pulumi.secret(args.kubeconfig),
        deleteUnreachable: true,
        enableServerSideApply: true,
        // a lab apiserver on a slow guest takes longer than the default 32 s to send its
        // OpenAPI document to several requests at once (seen on TCG guests)
        kubeClientSettings: { timeout: 120 },
      },
      // configured only once the cluster answers: a provider configured while the VMs are
      // still booting caches "cluster unreachable" for the whole run (seen in a real first
      // up: every addon failed with "no route to host" although the API answered by then)
      { parent: this, dependsOn: [this.apiReachable] },
    );
    const groups: Record<string, pulumi.CustomResource[]> = {};
    let previous: pulumi.Input<pulumi.Resource>[] = [...args.after, this.apiReachable];
    const planned = planAddons(args.cluster);
    const everyObject = planned.flatMap((g) => g.objects);
    const applied = new Map<K8sObject, pulumi.CustomResource>();
    for (const group of planned) {
      const created = group.objects.map((o) => {
        const ctor = KINDS[`${o.apiVersion}/${o.kind}`];
        if (!ctor) throw new Error(`addons: no typed resource for ${o.apiVersion} ${o.kind}`);
        // its Namespace, a token Secret's ServiceAccount: planned earlier in the same list
        const first = prerequisitesOf(o, everyObject).map((p) => {
          const r = applied.get(p.object);
          if (!r) throw new Error(`addons: ${resourceName(o)} needs ${resourceName(p.object)} first (${p.reason}), but it is planned after it`);
          return r;
        });
        const r = new ctor(resourceName(o), o, { parent: this, provider: this.provider, dependsOn: [...previous, ...first] });
        applied.set(o, r);
        return r;
      });
      groups[group.name] = created;
      // the pod network before CoreDNS and the dashboard (they would stay Pending without it)
      if (group.name === "cni") previous = [...args.after, this.apiReachable, ...created];
    }
    this.groups = groups;
    this.registerOutputs({});
  }
}
