// VM layer (shipping): one libvirt object — network, pool, base image, a node's overlay,
// seed ISO or domain — as a local command running virsh against the configured URI (so a
// remote qemu+ssh:// hypervisor works the same way), and a node's readiness gate that
// later layers depend on; and, before anything is registered, what libvirt still has of the
// running nodes' machines. What to make, and in which order, is the cluster plan's.
// Depends on: vm/plan, @pulumi/command.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ClusterConfig, MachineState } from "../config";
import { LibvirtObjectPlan, machinesProbes, mergeMachineStates, parseMachinesProbe } from "./plan";

export * from "./plan";

/**
 * One libvirt object: the plan's create script runs from stdin (so a failure shows virsh's
 * own message, not the whole script and its XML), the delete script as the delete
 * command; a trigger change replaces it.
 */
export function libvirtObject(
  resourceName: string,
  plan: pulumi.Output<LibvirtObjectPlan> | LibvirtObjectPlan,
  uri: string,
  opts: pulumi.CustomResourceOptions,
  /** Objects whose replacement must replace this one too (a domain's disks). */
  replacedWith: pulumi.CustomResource[] = [],
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

export interface ReadinessGateArgs {
  /** The plan's readiness script (the SSH private key arrives on stdin). */
  script: string;
  /** libvirt URI, for the console log the script reads. */
  uri: string;
  /** SSH private key (secret). */
  sshPrivateKey: pulumi.Output<string>;
  /** The machine behind the node (its domain): a new one runs the gate again. Default: none (an existing host). */
  machine?: pulumi.CustomResource[];
}

/** Per node: SSH answers and cloud-init has finished. Host steps depend on it. */
export function readinessGate(name: string, args: ReadinessGateArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
  return new command.local.Command(
    name,
    {
      interpreter: ["/bin/bash", "-c"],
      create: args.script,
      stdin: pulumi.secret(args.sshPrivateKey),
      environment: { LIBVIRT_URI: args.uri },
      triggers: (args.machine ?? []).map((d) => d.id),
      addPreviousOutputInEnv: false,
    },
    opts,
  );
}

/**
 * Asks libvirt (read-only, through the command provider's local run, in a preview too)
 * whether each of these nodes still has its domain and its disk, on each host. Undefined
 * when a host does not answer: the VM steps then fail with their own message.
 */
export async function probeMachines(c: ClusterConfig, nodes: readonly string[]): Promise<MachineState[] | undefined> {
  if (c.hypervisor.mode !== "libvirt" || nodes.length === 0) return [];
  const answers: MachineState[][] = [];
  for (const probe of machinesProbes(c, nodes)) {
    const r = await command.local.run({ command: "bash -s", stdin: probe.script, environment: probe.environment, addPreviousOutputInEnv: false });
    const states = parseMachinesProbe(r.stdout);
    if (!states) return undefined;
    answers.push(states);
  }
  return mergeMachineStates(answers);
}
