// VM layer: the lab's libvirt objects — network, pool, base image, one overlay, seed ISO
// and domain per node — as local commands running virsh against the configured URI (so a
// remote qemu+ssh:// hypervisor works the same way), and one readiness gate per node that
// later layers depend on. In `existing` mode only the readiness gates are made.
// Depends on: config, vm/plan, @pulumi/command.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ClusterConfig, NodeSpec } from "../config";
import {
  LibvirtObjectPlan,
  planBaseVolume,
  planCloudInitDisk,
  planDomain,
  planNetwork,
  planNodeVolume,
  planPool,
  readinessScript,
} from "./plan";

export * from "./plan";

export interface LabVmsArgs {
  /** The checked cluster model. */
  cluster: ClusterConfig;
  /** OpenSSH public key installed for the SSH user by cloud-init. */
  sshPublicKey: pulumi.Input<string>;
  /** Private half, for the readiness checks (secret). */
  sshPrivateKey: pulumi.Output<string>;
}

/**
 * One libvirt object: the plan's create script runs from stdin (so a failure shows virsh's
 * own message, not the whole script and its XML), the delete script as the delete
 * command; a trigger change replaces it.
 */
function libvirtObject(
  resourceName: string,
  plan: pulumi.Output<LibvirtObjectPlan> | LibvirtObjectPlan,
  uri: string,
  opts: pulumi.CustomResourceOptions,
  /** Objects whose replacement must replace this one too (a domain's disks). */
  replacedWith: command.local.Command[] = [],
): command.local.Command {
  const p = pulumi.output(plan);
  return new command.local.Command(
    resourceName,
    {
      interpreter: ["/bin/bash", "-c"],
      create: "bash -s",
      stdin: p.create,
      delete: p.delete,
      environment: { LIBVIRT_URI: uri },
      triggers: [p.triggers, ...replacedWith.map((r) => r.id)],
      addPreviousOutputInEnv: false,
    },
    { ...opts, deleteBeforeReplace: true },
  );
}

export class LabVms extends pulumi.ComponentResource {
  /** Per node: SSH answers and cloud-init has finished. Host steps depend on these. */
  readonly ready: Readonly<Record<string, command.local.Command>>;
  readonly domains: Readonly<Record<string, command.local.Command>>;

  constructor(name: string, args: LabVmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("k8slab:vm:LabVms", name, {}, opts);
    const c = args.cluster;
    const uri = c.hypervisor.uri;
    const ready: Record<string, command.local.Command> = {};
    const domains: Record<string, command.local.Command> = {};
    const readiness = (node: NodeSpec, withCloudInit: boolean, dependsOn: pulumi.Resource[]) =>
      new command.local.Command(
        `ready-${node.name}`,
        {
          interpreter: ["/bin/bash", "-c"],
          create: readinessScript(c, node, withCloudInit),
          stdin: pulumi.secret(args.sshPrivateKey),
          environment: { LIBVIRT_URI: uri },
          triggers: dependsOn.map((d) => (d instanceof command.local.Command ? d.id : "")),
          addPreviousOutputInEnv: false,
        },
        { parent: this, dependsOn },
      );

    if (c.hypervisor.mode === "libvirt") {
      const network = libvirtObject(`network-${c.name}`, planNetwork(c), uri, { parent: this });
      const pool = libvirtObject(`pool-${c.hypervisor.pool}`, planPool(c), uri, { parent: this });
      const base = libvirtObject(`volume-base`, planBaseVolume(c), uri, { parent: this, dependsOn: [pool] });
      for (const node of c.nodes) {
        const disk = libvirtObject(`volume-${node.name}`, planNodeVolume(c, node), uri, { parent: this, dependsOn: [base] });
        const seedPlan = pulumi.output(args.sshPublicKey).apply((key) => planCloudInitDisk(c, node, key));
        const seed = libvirtObject(`cloudinit-${node.name}`, seedPlan, uri, { parent: this, dependsOn: [pool] });
        // a new disk or seed means a new machine: the domain is replaced with them
        const domain = libvirtObject(`domain-${node.name}`, planDomain(c, node), uri, { parent: this, dependsOn: [network, disk, seed] }, [disk, seed]);
        domains[node.name] = domain;
        ready[node.name] = readiness(node, true, [domain]);
      }
    } else {
      for (const node of c.nodes) ready[node.name] = readiness(node, false, []);
    }
    this.ready = ready;
    this.domains = domains;
    this.registerOutputs({});
  }
}
