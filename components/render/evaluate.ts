// Evaluates the Pulumi program in-process, without the CLI or any provider: a stand-in
// engine (Pulumi's mock monitor) records every resource with its inputs and the resources
// it depends on. The render command uses it for the plan's numbers (resources by type,
// SSH sessions, the critical path); the benchmark times it. Depends on: render/tls-emulator.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { certRequest, generateKey, locallySignedCert, selfSignedCert } from "./tls-emulator";
import { DEFAULT_NODES } from "../config/keys";
import { ESTABLISHED_OUTPUT } from "../host/established";

export interface EvaluatedResource {
  type: string;
  name: string;
  custom: boolean;
  inputs: Record<string, any>;
  /** Names of the resources it depends on (explicit dependsOn). */
  deps: string[];
}

export interface Evaluation {
  resources: EvaluatedResource[];
  outputs?: Record<string, unknown>;
  error?: unknown;
  /** Wall time of the program's evaluation, in milliseconds. */
  ms: number;
}

export type Program = () => Promise<Record<string, unknown>>;

/** How the engine protocol marks a secret value (unwrapped here: the render shows what lands). */
const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Is this deserialized input value a secret wrapper? */
export function isSecretWrapper(v: unknown): v is { value: unknown } {
  return !!v && typeof v === "object" && (v as Record<string, unknown>)[SECRET_KEY] === SECRET_SIG;
}

/** Resource inputs as plain data: secrets unwrapped, assets dropped. */
export function plainInputs(inputs: unknown): Record<string, any> {
  return JSON.parse(JSON.stringify(inputs, (_k, v) => (isSecretWrapper(v) ? v.value : v)));
}

const PLACEHOLDER_PEM = (what: string) => `-----BEGIN K8S-LAB PLACEHOLDER-----\n${what}\n-----END K8S-LAB PLACEHOLDER-----\n`;

/** Outputs per resource type: tls resources issue real test material ("emulated") or placeholders. */
function outputs(type: string, name: string, inputs: Record<string, any>, pki: "emulated" | "placeholder"): Promise<Record<string, any>> | Record<string, any> {
  if (type.startsWith("tls:") && pki === "emulated") {
    if (type === "tls:index/privateKey:PrivateKey") return { ...inputs, ...generateKey(inputs) };
    if (type === "tls:index/selfSignedCert:SelfSignedCert") return selfSignedCert(inputs);
    if (type === "tls:index/certRequest:CertRequest") return certRequest(inputs);
    if (type === "tls:index/locallySignedCert:LocallySignedCert") return locallySignedCert(inputs);
  }
  switch (type) {
    case "tls:index/privateKey:PrivateKey":
      return { ...inputs, privateKeyPem: PLACEHOLDER_PEM(`private key ${name}`), privateKeyOpenssh: PLACEHOLDER_PEM(`private key ${name}`), publicKeyPem: PLACEHOLDER_PEM(`public key ${name}`), publicKeyOpenssh: `ssh-ed25519 PLACEHOLDER-${name}\n` };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return { ...inputs, certPem: PLACEHOLDER_PEM(`certificate ${name}`) };
    case "tls:index/certRequest:CertRequest":
      return { ...inputs, certRequestPem: PLACEHOLDER_PEM(`request ${name}`) };
    case "random:index/randomBytes:RandomBytes":
      return { ...inputs, base64: crypto.randomBytes(inputs.length).toString("base64"), hex: "" };
    case "command:remote:Command":
    case "command:local:Command":
      return { ...inputs, stdout: "", stderr: "" };
    default:
      if (type.startsWith("command:") || type.startsWith("kubernetes:") || type.startsWith("pulumi:providers:")) return { ...inputs };
      throw new Error(`render: no stand-in outputs for resource type ${type}`);
  }
}

/** What a reference to this stack reads: the previous `up`'s established nodes. */
export function stackReferenceState(name: string, established: string[]): Record<string, unknown> {
  return { name, outputs: { [ESTABLISHED_OUTPUT]: established }, secretOutputNames: [] };
}

/** Runs `program` (already imported) under a recording stand-in engine. */
/** The node names a config value list holds (for "every node is established"). */
export function nodeNamesOf(config: Record<string, string>, project: string): string[] {
  const nodes = config[`${project}:nodes`];
  const list: string[] = nodes ? JSON.parse(nodes) : DEFAULT_NODES;
  return list.flatMap((n) => /(?:^|\s)name=(\S+)/.exec(n)?.[1] ?? []);
}

/**
 * Runs the program under the stand-in engine. `established`: the nodes the previous `up`
 * left running (the stack's own output, read by the program): "all" (default) for a change
 * to a running cluster, [] for the first `up`.
 */
export async function evaluateProgram(program: Program, opts: { project: string; stack: string; config: Record<string, string>; pki?: "emulated" | "placeholder"; established?: "all" | string[] }): Promise<Evaluation> {
  const established = opts.established === undefined || opts.established === "all" ? nodeNamesOf(opts.config, opts.project) : opts.established;
  const resources: EvaluatedResource[] = [];
  const deps = new Map<string, string[]>();
  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        if (args.type === "pulumi:pulumi:Stack") return { id: undefined, state: {} };
        if (args.type === "pulumi:pulumi:StackReference") return { id: args.inputs.name, state: stackReferenceState(args.inputs.name, established) };
        const inputs = plainInputs(args.inputs);
        resources.push({ type: args.type, name: args.name, custom: args.custom !== false, inputs, deps: deps.get(`${args.type}::${args.name}`) ?? [] });
        if (args.custom === false) return { id: undefined, state: {} };
        return { id: `${args.name}-id`, state: await outputs(args.type, args.name, inputs, opts.pki ?? "placeholder") };
      },
      call(args) {
        throw new Error(`render: the program invoked ${args.token}, which the stand-in engine cannot answer`);
      },
    },
    opts.project,
    opts.stack,
    true,
    "organization", // the organization of a local (file) backend
  );
  pulumi.runtime.setAllConfig(opts.config);
  const started = process.hrtime.bigint();
  const { outputs: out, error } = await runInStack(program, (type, name, o) => {
    deps.set(`${type}::${name}`, ((o.dependsOn ?? []) as unknown[]).flat().map((d) => (d as { __name?: string }).__name ?? "?"));
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { resources, outputs: out, error, ms };
}

/**
 * Runs a program as the language host does — inside the root Stack resource — with a hook
 * that sees every resource's options, and waits for every registration. The program's
 * error (or a registration's that failed after it returned) is returned, never thrown,
 * so the Stack itself never fails unobserved. Mocks must be set first.
 */
export async function runInStack(
  program: Program,
  onResource: (type: string, name: string, opts: pulumi.CustomResourceOptions) => void,
): Promise<{ outputs?: Record<string, unknown>; error?: unknown }> {
  let outputs: Record<string, unknown> | undefined;
  let error: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((t) => {
      onResource(t.type, t.name, t.opts);
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
  if (typeof waitForRPCs !== "function") throw new Error("this @pulumi/pulumi has no runtime.waitForRPCs; update components/render/evaluate.ts");
  try {
    await waitForRPCs();
  } catch (e) {
    error ??= e;
  }
  return { outputs, error };
}

/** Counts of resources by type, sorted by type. */
export function countByType(rs: EvaluatedResource[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of [...rs].sort((a, b) => a.type.localeCompare(b.type))) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

/** SSH sessions each node gets during a full `up`: remote commands and copies, by host. */
export function sshSessionsPerHost(rs: EvaluatedResource[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs.filter((x) => x.type === "command:remote:Command" || x.type === "command:remote:CopyToRemote")) {
    const host = r.inputs.connection?.host as string;
    out[host] = (out[host] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort());
}

/** The longest chain of host steps that must run one after another, and its length. */
export function criticalPath(rs: EvaluatedResource[]): string[] {
  const steps = new Map(rs.filter((r) => r.type === "k8slab:host:HostStep").map((r) => [r.name, r]));
  const memo = new Map<string, string[]>();
  const longest = (name: string): string[] => {
    const hit = memo.get(name);
    if (hit) return hit;
    let best: string[] = [];
    for (const d of steps.get(name)!.deps) {
      if (!steps.has(d)) continue;
      const p = longest(d);
      if (p.length > best.length) best = p;
    }
    const path = [...best, name];
    memo.set(name, path);
    return path;
  };
  let best: string[] = [];
  for (const name of [...steps.keys()].sort()) {
    const p = longest(name);
    if (p.length > best.length) best = p;
  }
  return best;
}
