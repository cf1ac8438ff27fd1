// The host step: ships one HostStepPlan to one node over SSH with @pulumi/command — one
// remote command (and a copy per uploaded file) under its layer, so the preview shows one
// entry per step. Create runs the apply script (fed on stdin, never on the command line),
// delete runs the delete script; the triggers are the digests of what lands on the host, so
// a re-run with the same config changes nothing and the preview names the files that
// changed. Replacement deletes first (both touch the same paths). Depends on: host/plan.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { HostStepPlan, MaterialRef, materialRefs, renderApplyScript, renderDeleteScript, stepDigests } from "./plan";

/** How the program logs in to every node. */
export interface NodeAccess {
  /** Login user (has passwordless sudo). */
  user: string;
  /** SSH private key, secret. */
  privateKey: pulumi.Output<string>;
  /**
   * Changes when the machine behind a node is replaced (a new VM, a new disk): every step
   * on that node then runs again. Default: nothing (existing hosts).
   */
  hostIdentity?: (node: string) => pulumi.Input<string> | undefined;
}

/** Key material by reference; a missing reference is a programming error. */
export type MaterialResolver = (ref: MaterialRef) => pulumi.Output<string>;

export interface HostStepArgs {
  /** What lands on the node, and how it is activated and undone. */
  plan: HostStepPlan;
  /** SSH login for the node. */
  access: NodeAccess;
  /** Resolves key material referenced by the plan's files. Default: none may be referenced. */
  material?: MaterialResolver;
  /** wipeDataOnDestroy as configured: only the trigger counts it (the node's footprint removes the data; stepDigests says why). Default: false. */
  wipeData?: boolean;
}

export interface HostStepOptions {
  /** The layer the step sits under (default: the stack). */
  parent?: pulumi.Resource;
  dependsOn?: pulumi.Resource[];
  /** Skip the delete when this goes too (the node's disk, or the cluster). */
  deletedWith?: pulumi.Resource;
  /** Never run the delete: the machine is gone (lostMachines); the engine drops the step from the stack. */
  retainOnDelete?: boolean;
  /**
   * The parent a step had when each step was a component of its own
   * (`k8slab:host:HostStep`, under `formerLayer` or the stack): the command and its copies
   * keep their identity through an alias, so a stack made then replaces nothing.
   */
  formerLayer?: pulumi.Resource;
  /** Never replaced by a trigger change (HostStep.keptOnNewMachine): the engine ignores them. */
  ignoreTriggers?: boolean;
}

/** The type steps were components of before one preview entry per step; kept for aliases. */
export const FORMER_HOST_STEP_TYPE = "k8slab:host:HostStep";

/** SSH dial settings fit for a VM that is still booting: about five minutes of retries. */
export const DIAL = { dialErrorLimit: 20, perDialTimeout: 15 } as const;

/** Registers a step: its uploads, then its command (returned), each under the step's layer. */
export function hostStep(name: string, args: HostStepArgs, opts: HostStepOptions = {}): command.remote.Command {
  const { plan } = args;
  const refs = materialRefs(plan);
  const secret = plan.files.some((f) => f.secret) || refs.length > 0;
  const resolve = args.material ?? ((ref: MaterialRef) => { throw new Error(`${name}: no material resolver for ${ref}`); });
  const values = pulumi.all(refs.map((r) => resolve(r)));
  const lookup = (resolved: string[]) => (ref: MaterialRef) => resolved[refs.indexOf(ref)];
  const wipe = args.wipeData ?? false;

  const script = values.apply((v) => renderApplyScript(plan, lookup(v)));
  // A digest of a random key reveals nothing; unsecret it so the preview can name the file that changed.
  const digests = pulumi.unsecret(values.apply((v) => stepDigests(plan, lookup(v), wipe)));
  const deleteScript = renderDeleteScript(plan);
  const aliases = [{ parent: pulumi.createUrn(name, FORMER_HOST_STEP_TYPE, opts.formerLayer) }];
  const placement = { parent: opts.parent, aliases, ...(opts.deletedWith ? { deletedWith: opts.deletedWith } : {}), ...(opts.retainOnDelete ? { retainOnDelete: true } : {}) };

  // Each file the node needs, and no other, is copied on its own (the provider copies a
  // file asset or a whole directory; a directory would send every node every release file).
  // Copied again whenever the step runs again (its script digest) or a new machine is
  // behind the node: a replaced step's delete removes the files the old step took in, the
  // unchanged ones too, before the new step takes them.
  const uploads = (plan.upload?.files ?? []).map(
    (f) =>
      new command.remote.CopyToRemote(
        `${name}-upload-${f.name}`,
        {
          connection: { host: plan.ip, user: args.access.user, privateKey: args.access.privateKey, ...DIAL },
          source: new pulumi.asset.FileAsset(path.join(plan.upload!.sourceDir, f.name)),
          remotePath: `${plan.upload!.targetDir}/${f.name}`,
          triggers: [f.digest, digests.apply((d) => ({ step: d.script })), { host: args.access.hostIdentity?.(plan.node) ?? plan.ip }],
        },
        { ...placement, dependsOn: opts.dependsOn },
      ),
  );

  return new command.remote.Command(
    name,
    {
      connection: { host: plan.ip, user: args.access.user, privateKey: args.access.privateKey, ...DIAL },
      create: "sudo -n bash -s",
      stdin: secret ? pulumi.secret(script) : script,
      delete: `echo ${Buffer.from(deleteScript).toString("base64")} | base64 -d | sudo -n bash -s`,
      triggers: [
        ...(plan.identity ? [{ identity: plan.identity }] : [digests.apply((d) => ({ script: d.script })), ...plan.files.map((_, i) => digests.apply((d) => d.files[i]))]),
        { host: args.access.hostIdentity?.(plan.node) ?? plan.ip },
      ],
      addPreviousOutputInEnv: false,
      // stdout stays secret; stderr carries the script's own progress and diagnosis
      // (scripts never write key material there), so a failing step says why
      logging: secret ? "stderr" : "stdoutAndStderr",
    },
    {
      ...placement,
      deleteBeforeReplace: true,
      dependsOn: [...(opts.dependsOn ?? []), ...uploads],
      additionalSecretOutputs: secret ? ["stdout", "stderr"] : [],
      ...(opts.ignoreTriggers ? { ignoreChanges: ["triggers"] } : {}),
    },
  );
}
