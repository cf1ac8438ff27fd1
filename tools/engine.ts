// The one stand-in engine, a test double outside the program (no program module imports
// it): runs the Pulumi program in-process under Pulumi's mock monitor, records every
// resource (inputs with secrets unwrapped and which inputs were secret, its options, its
// URN), answers each resource type with outputs shaped like its provider's — the tls
// resources with real keys and certificates from the TLS double (tools/test-pki) — keeps
// provider state between runs as the engine's state does, and throws on any resource type
// or invoke it does not know, so nothing can silently expand to an empty graph. The tests
// and `npm run bench` use it; the render does not (it reads the plan).
// Depends on: tools/test-pki, host/established, config/keys, @pulumi/pulumi.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { certRequest, generateKey, locallySignedCert, selfSignedCert } from "./test-pki";
import { DEFAULT_NODES } from "../components/config/keys";
import { ESTABLISHED_OUTPUT } from "../components/host/established";

export type Program = () => Promise<Record<string, unknown>>;

export interface Recorded {
  type: string;
  name: string;
  custom: boolean;
  /** Inputs with secrets unwrapped. */
  inputs: Record<string, any>;
  /** Paths (a.b[0].c) of inputs that arrived as secrets. */
  secretPaths: string[];
  /** Every string input not under a secret, with its path. */
  plainStrings: Array<{ path: string; value: string }>;
  state: Record<string, any>;
}

/** What one program run registered. */
export class Recorder {
  resources: Recorded[] = [];
  /** Resource options by `type::name`, as the program passed them. */
  options = new Map<string, pulumi.CustomResourceOptions>();
  /** The same options by URN (parents' types, type, name). */
  byUrn = new Map<string, { urn: string; opts: pulumi.CustomResourceOptions }>();
  invokes: string[] = [];
  /** Names of the stacks the program referenced. */
  stackReferences: string[] = [];
  ofType(type: string): Recorded[] {
    return this.resources.filter((r) => r.type === type);
  }
  /** The one custom resource with this name (of this type, when given). */
  named(name: string, type?: string): Recorded {
    const rs = this.resources.filter((x) => x.name === name && x.custom && (type === undefined || x.type === type));
    if (rs.length !== 1) throw new Error(`${rs.length} custom resources named ${name}${type ? ` of type ${type}` : ""}; have ${this.resources.map((x) => `${x.type}:${x.name}`).join(", ")}`);
    return rs[0];
  }
  /** Names of the resources that `type::name` was given in dependsOn, in the order given. */
  dependsOnNames(type: string, name: string): string[] {
    return ((this.options.get(`${type}::${name}`)?.dependsOn ?? []) as unknown[]).map((d) => (d as { __name?: string }).__name ?? "?");
  }
  countByType(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of [...this.resources].sort((a, b) => a.type.localeCompare(b.type))) out[r.type] = (out[r.type] ?? 0) + 1;
    return out;
  }
  /** SSH sessions each host gets during a full `up`: remote commands and copies, by host. */
  sshSessionsPerHost(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.resources.filter((x) => x.type === "command:remote:Command" || x.type === "command:remote:CopyToRemote")) {
      const host = r.inputs.connection?.host as string;
      out[host] = (out[host] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(out).sort());
  }
}

// ---- secrets as the engine protocol marks them ------------------------------------------

const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Is this deserialized input value a secret wrapper? */
export function isSecretWrapper(v: unknown): v is { value: unknown } {
  return !!v && typeof v === "object" && (v as Record<string, unknown>)[SECRET_KEY] === SECRET_SIG;
}

function unwrap(v: any, path: string, secretPaths: string[], plain: Array<{ path: string; value: string }>, inSecret: boolean): any {
  if (isSecretWrapper(v)) {
    secretPaths.push(path);
    return unwrap(v.value, path, secretPaths, plain, true);
  }
  if (typeof v === "string") {
    if (!inSecret) plain.push({ path, value: v });
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => unwrap(x, `${path}[${i}]`, secretPaths, plain, inSecret));
  if (v && typeof v === "object" && !(v instanceof pulumi.asset.Asset) && !(v instanceof pulumi.asset.Archive)) {
    const o: Record<string, any> = {};
    for (const [k, x] of Object.entries(v)) o[k] = unwrap(x, path ? `${path}.${k}` : k, secretPaths, plain, inSecret);
    return o;
  }
  return v;
}

// ---- per-type outputs ---------------------------------------------------------------------

type StateFn = (inputs: Record<string, any>, name: string) => Promise<Record<string, any>> | Record<string, any>;

const STATE: Record<string, StateFn> = {
  "tls:index/privateKey:PrivateKey": (i) => ({ ...i, ...generateKey(i) }),
  "tls:index/selfSignedCert:SelfSignedCert": selfSignedCert,
  "tls:index/certRequest:CertRequest": certRequest,
  "tls:index/locallySignedCert:LocallySignedCert": locallySignedCert,
  "command:remote:Command": (i) => ({ ...i, stdout: "", stderr: "" }),
  "command:local:Command": (i) => ({ ...i, stdout: "", stderr: "" }),
  "command:remote:CopyToRemote": (i) => ({ ...i }),
  "pulumi:providers:kubernetes": (i) => ({ ...i }),
  "random:index/randomBytes:RandomBytes": (i) => {
    const b = crypto.randomBytes(i.length);
    return { ...i, base64: b.toString("base64"), hex: b.toString("hex") };
  },
};

/** Kubernetes objects: the inputs echoed, a status-less object with its name. */
function kubernetesState(type: string, inputs: Record<string, any>, name: string): Record<string, any> | undefined {
  if (!type.startsWith("kubernetes:")) return undefined;
  const metadata = { ...(inputs.metadata ?? {}) };
  metadata.name ??= `${name}-mock`;
  return { ...inputs, metadata };
}

/**
 * Provider state that survives between program runs, as the engine's state does: a tls or
 * random resource whose inputs did not change keeps its key, certificate or bytes. Keyed by
 * type, name and inputs (PEM inputs by digest).
 */
const providerState = new Map<string, Record<string, any>>();
function stateKey(type: string, name: string, inputs: Record<string, any>, replacementTrigger: unknown): string {
  const norm = JSON.stringify(inputs, (_k, v) => (typeof v === "string" && v.includes("-----BEGIN") ? crypto.createHash("sha256").update(v).digest("hex") : v));
  return `${type}\0${name}\0${norm}\0${JSON.stringify(replacementTrigger ?? null)}`;
}

/** Forgets what the provider holds for the resources named (as a renewal re-issues a certificate). */
export function forgetProviderState(type: string, name: string): number {
  let n = 0;
  for (const k of [...providerState.keys()]) if (k.startsWith(`${type}\0${name}\0`)) (providerState.delete(k), n++);
  return n;
}

/**
 * What a reference to this stack reads: the previous `up`'s outputs when given (as a
 * program run returned them), else only its established nodes (a stack whose last `up`
 * recorded nothing more).
 */
export function stackReferenceState(name: string, established: string[], previous?: Record<string, unknown>): Record<string, unknown> {
  return { name, outputs: previous ?? { [ESTABLISHED_OUTPUT]: established }, secretOutputNames: [] };
}

/** The mocks: `established` (or all of `previous`) is what the program reads from its own stack (the previous `up`). */
export function standInEngine(rec: Recorder, established: string[] = [], previous?: Record<string, unknown>, goneMachines: readonly string[] = []): pulumi.runtime.Mocks {
  return {
    async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
      if (args.type === "pulumi:pulumi:Stack") return { id: undefined, state: {} };
      if (args.type === "pulumi:pulumi:StackReference") {
        rec.stackReferences.push(args.inputs.name);
        return { id: args.inputs.name, state: stackReferenceState(args.inputs.name, established, previous) };
      }
      const secretPaths: string[] = [];
      const plainStrings: Array<{ path: string; value: string }> = [];
      const inputs = unwrap(args.inputs, "", secretPaths, plainStrings, false);
      const entry: Recorded = { type: args.type, name: args.name, custom: args.custom !== false, inputs, secretPaths, plainStrings, state: {} };
      rec.resources.push(entry);
      if (args.custom === false) return { id: undefined, state: {} };
      const fn = STATE[args.type];
      // a changed replacementTrigger replaces the resource: the provider issues it anew
      const key = stateKey(args.type, args.name, inputs, rec.options.get(`${args.type}::${args.name}`)?.replacementTrigger);
      const kept = /^(tls|random):/.test(args.type) ? providerState.get(key) : undefined;
      const state = kept ?? (fn ? await fn(inputs, args.name) : kubernetesState(args.type, inputs, args.name));
      if (!state) throw new Error(`stand-in engine: no outputs for resource type ${args.type} (${args.name}); add it to components/render/engine.ts`);
      if (/^(tls|random):/.test(args.type)) providerState.set(key, state);
      entry.state = state;
      return { id: `${args.name}-id`, state };
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
      rec.invokes.push(args.token);
      // the program's probe of the nodes' machines (vm/sh/machines.sh): libvirt has every
      // machine but the gone ones (domain and disk)
      const machines = (args.inputs as { environment?: Record<string, string> }).environment?.MACHINES;
      if (args.token === "command:local:run" && machines !== undefined) {
        const lines = machines.split("\n").filter(Boolean).map((l) => l.split(" ")[0]).map((n) => (goneMachines.includes(n) ? `${n} absent absent` : `${n} present present`));
        return { stdout: lines.join("\n"), stderr: "", command: args.inputs.command };
      }
      throw new Error(`stand-in engine: invoke ${args.token} is not answered; the program must not depend on it silently`);
    },
  };
}

// ---- URNs ----------------------------------------------------------------------------------

type Internal = { __pulumiType?: string; __name?: string; __parentResource?: Internal };

/** `parentType$…$type::name`, as in the URN after the project (the root Stack is left out). */
export function urnOf(r: unknown): string {
  const types: string[] = [];
  let name = "";
  for (let x = r as Internal | undefined, first = true; x; x = x.__parentResource, first = false) {
    if (x.__pulumiType === "pulumi:pulumi:Stack") break;
    types.unshift(x.__pulumiType ?? "?");
    if (first) name = x.__name ?? "?";
  }
  return `${types.join("$")}::${name}`;
}

/** URN of a resource about to be registered. */
export function urnOfArgs(type: string, name: string, opts: pulumi.ResourceOptions): string {
  const parent = opts.parent ? urnOf(opts.parent).split("::")[0] : "";
  return `${parent ? `${parent}$` : ""}${type}::${name}`;
}

// ---- running a program -------------------------------------------------------------------

/**
 * Runs a program as the language host does — inside the root Stack resource — recording
 * every resource's options, and waits for every registration. The program's error (or a
 * registration's that failed after it returned) is returned, never thrown. Mocks must be set first.
 */
export async function runInStack(program: Program, rec: Recorder): Promise<{ outputs?: Record<string, unknown>; error?: unknown }> {
  let outputs: Record<string, unknown> | undefined;
  let error: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((t) => {
      rec.options.set(`${t.type}::${t.name}`, t.opts);
      const urn = urnOfArgs(t.type, t.name, t.opts);
      if (rec.byUrn.has(urn)) throw new Error(`two resources with URN ${urn}`);
      rec.byUrn.set(urn, { urn, opts: t.opts });
      return undefined;
    });
    try {
      outputs = await program();
    } catch (e) {
      error = e;
    }
    return outputs;
  });
  const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (typeof waitForRPCs !== "function") throw new Error("this @pulumi/pulumi has no runtime.waitForRPCs; update tools/engine.ts");
  try {
    await waitForRPCs();
  } catch (e) {
    error ??= e;
  }
  return { outputs, error };
}

/** The node names a config value list holds (for "every node is established"). */
export function nodeNamesOf(config: Record<string, string>, project: string): string[] {
  const nodes = config[`${project}:nodes`];
  const list: string[] = nodes ? JSON.parse(nodes) : DEFAULT_NODES;
  return list.flatMap((n) => /(?:^|\s)name=(\S+)/.exec(n)?.[1] ?? []);
}

export interface EngineRun {
  rec: Recorder;
  outputs?: Record<string, unknown>;
  error?: unknown;
  /** Wall time of the program's evaluation, in milliseconds. */
  ms: number;
}

export interface EngineOptions {
  project: string;
  stack: string;
  /** Config as the engine passes it: `project:key` → string. */
  config: Record<string, string>;
  /** Keys (`project:key`) whose values are secret. */
  secretKeys?: string[];
  /** The previous `up`'s established nodes: "all" (default, a change to a running cluster) or a list ([] = first `up`). */
  established?: "all" | string[];
  /** The previous `up`'s outputs, resolved (then `established` is not used). Default: only the established nodes. */
  previousOutputs?: Record<string, unknown>;
  /** A preview rather than an update. Default: false. */
  preview?: boolean;
  /** Nodes whose machine (domain and disk) libvirt no longer has. Default: none. */
  goneMachines?: string[];
  /** The program; imported only after the mocks are set, so it can never run against a real engine. */
  load: () => Promise<Program>;
}

/** Sets the mocks and the config, then loads and runs the program. Never throws for the program's errors. */
/**
 * The machine the stand-in engine runs the program on has the stack's base image: a path
 * that is not on this machine (the dev stack's, on CI) is replaced by a stand-in file, since
 * the program checks that the image is there before anything is registered (preflight).
 */
function withStandInBaseImage(config: Record<string, string>, project: string): Record<string, string> {
  const key = `${project}:baseImagePath`;
  const p = config[key];
  if (p === undefined || fs.existsSync(p)) return config;
  const standIn = path.join(os.tmpdir(), "k8s-lab-stand-in-base-image.qcow2");
  if (!fs.existsSync(standIn)) fs.writeFileSync(standIn, "");
  return { ...config, [key]: standIn };
}

export async function runUnderEngine(o: EngineOptions): Promise<EngineRun> {
  const rec = new Recorder();
  const established = o.established === undefined || o.established === "all" ? nodeNamesOf(o.config, o.project) : o.established;
  await pulumi.runtime.setMocks(standInEngine(rec, established, o.previousOutputs, o.goneMachines), o.project, o.stack, o.preview ?? false, "organization");
  pulumi.runtime.setAllConfig(withStandInBaseImage(o.config, o.project), o.secretKeys ?? []);
  const program = await o.load();
  if (typeof program !== "function") throw new Error("the program must export a function");
  const started = process.hrtime.bigint();
  const { outputs, error } = await runInStack(program, rec);
  return { rec, outputs, error, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}
