// The shipper: turns the cluster plan into Pulumi resources, one generic walk over its
// steps in dependency order — libvirt objects and readiness gates (vm), host steps (host),
// the API gate, the provider and the objects (addons) — with every edge of the plan as a
// `dependsOn`. Each step sits under its layer's named component, one entry per step, so
// `pulumi preview` reads as a tree of layers. Key material comes from the PKI (and the control plane's Secrets
// encryption key), resolved by typed reference.
// Depends on: cluster/plan, pki, host, vm, addons, control-plane, @pulumi/pulumi.
import * as pulumi from "@pulumi/pulumi";
import { reaches } from "../config";
import { ClusterPki, NodeAccessKey, nodeAccessKey, pkiMaterial } from "../pki";
import { NodeAccess, hostStep } from "../host/step";
import { libvirtObject, readinessGate } from "../vm";
import { apiProvider, apiReachableGate, applyObject } from "../addons";
import { secretsEncryptionConfig } from "../control-plane";
import { ClusterPlan, Owner, PlannedStep, edgesInto, topologicalOrder } from "./plan";

export * from "./plan";

/** The component each owner's steps sit under: type and name are part of every URN, keep them. */
const OWNERS: Record<Owner, { type: string; name: string }> = {
  cluster: { type: "k8slab:cluster:Cluster", name: "cluster" },
  vms: { type: "k8slab:vm:LabVms", name: "vms" },
  nodes: { type: "k8slab:host:NodeBase", name: "nodes" },
  etcd: { type: "k8slab:etcd:EtcdCluster", name: "etcd" },
  "kube-nginx": { type: "k8slab:lb:KubeNginx", name: "kube-nginx" },
  "control-plane": { type: "k8slab:control-plane:ControlPlane", name: "control-plane" },
  workers: { type: "k8slab:worker:Workers", name: "workers" },
  addons: { type: "k8slab:addons:Addons", name: "addons" },
};

/** A layer in the preview tree: it holds its steps and nothing else. */
export class Layer extends pulumi.ComponentResource {
  constructor(type: string, name: string, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
  }
  /** Every step is registered. */
  complete(): void {
    this.registerOutputs({});
  }
}

export interface ShipClusterArgs {
  /** The SSH private key from config (secret); a key is generated when none is set. */
  sshPrivateKey?: pulumi.Output<string>;
}

export interface ShippedCluster {
  /** Absent when the lab stands up only to its VMs (upTo: vms). */
  pki?: ClusterPki;
  key: NodeAccessKey;
  /** Every step's resource, by step id. */
  resources: ReadonlyMap<string, pulumi.Resource>;
  layers: Readonly<Record<Owner, Layer>>;
}

/** Ships the plan. Resources are registered in dependency order; every edge becomes a dependsOn. */
export function shipCluster(plan: ClusterPlan, args: ShipClusterArgs = {}): ShippedCluster {
  const c = plan.config;
  // the PKI from stage pki on (the Secrets encryption key with it: lowering upTo below the
  // control plane must not lose the key etcd's Secrets are encrypted with)
  const pki = reaches(c, "pki") ? new ClusterPki(c.name, { cluster: c }) : undefined;
  const key = nodeAccessKey(c, args.sshPrivateKey);
  const layers = Object.fromEntries(Object.entries(OWNERS).map(([owner, o]) => [owner, new Layer(o.type, o.name)])) as Record<Owner, Layer>;
  const parentOf = (s: PlannedStep) => layers[s.owner];
  // where each host step's own component sat before one preview entry per step: its
  // layer, or the stack for the cluster-wide steps (their aliases keep every URN)
  const formerLayerOf = (s: PlannedStep) => (s.owner === "cluster" ? undefined : layers[s.owner]);
  const material = pki ? pkiMaterial(pki, { encryptionConfig: secretsEncryptionConfig(layers["control-plane"]) }) : undefined;

  const resources = new Map<string, pulumi.Resource>();
  const readyId = (node: string) => {
    const r = resources.get(`ready-${node}`);
    return r ? (r as pulumi.CustomResource).id : undefined;
  };
  // a replaced VM (new disk, new domain) gets every host step again
  const access: NodeAccess = { user: c.ssh.user, privateKey: key.privateKeyOpenssh, hostIdentity: readyId };
  let provider: pulumi.ProviderResource | undefined;

  for (const step of topologicalOrder(plan)) {
    const dependsOn = edgesInto(plan, step.id).map((e) => resources.get(e.before)!);
    const deletedWith = step.deletedWithCluster ? pki?.clusterAnchor : step.deletedWith ? (resources.get(step.deletedWith) as pulumi.CustomResource) : undefined;
    const opts = { parent: parentOf(step), dependsOn, ...(deletedWith ? { deletedWith } : {}), ...(step.forgottenOnDelete ? { retainOnDelete: true } : {}) };
    let r: pulumi.Resource;
    switch (step.kind) {
      case "libvirt": {
        const object = step.needsSshKey ? key.publicKeyOpenssh.apply((k) => step.object(k)) : step.object("");
        r = libvirtObject(step.id, object, step.uri, opts, step.replacedWith.map((x) => resources.get(x) as pulumi.CustomResource));
        break;
      }
      case "ready":
        r = readinessGate(step.id, { script: step.script, uri: step.uri, sshPrivateKey: key.privateKeyOpenssh, machine: dependsOn as pulumi.CustomResource[] }, opts);
        break;
      case "host":
        r = hostStep(step.id, { plan: step.plan, access, material, wipeData: step.wipeData }, { ...opts, formerLayer: formerLayerOf(step), ...(step.keptOnNewMachine ? { ignoreTriggers: true } : {}) });
        break;
      case "local-gate":
        r = apiReachableGate(step.id, step.script, step.triggers, opts);
        break;
      case "kubernetes-provider":
        r = provider = apiProvider(step.id, pki!.kubeconfigs["admin"], opts);
        break;
      case "kubernetes-object":
        if (!provider) throw new Error(`cluster plan: ${step.id} before the Kubernetes provider`);
        r = applyObject(step.id, step.object, provider, opts, step.sharedWithWorkload);
        break;
    }
    resources.set(step.id, r);
  }
  for (const l of Object.values(layers)) l.complete();
  return { pki, key, resources, layers };
}
