// Pulumi mocks for the unit tests. They record every registered resource with its inputs
// (and which inputs were secret), answer each resource type with outputs shaped like its
// provider's — the tls resources with REAL keys, CSRs and X.509 certificates built from
// the inputs — and throw on any resource type or invoke they do not know, so nothing can
// silently expand to an empty graph.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { certRequest, generateKey, locallySignedCert, selfSignedCert } from "../components/render/tls-emulator";
import { isSecretWrapper, stackReferenceState } from "../components/render/evaluate";


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

export class Recorder {
  resources: Recorded[] = [];
  /** Resource options by `type::name`, as the program passed them. */
  options = new Map<string, pulumi.CustomResourceOptions>();
  /** The same options by URN (see test/graph.ts). */
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
    for (const r of this.resources) out[r.type] = (out[r.type] ?? 0) + 1;
    return out;
  }
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

// ---- per-type outputs ------------------------------------------------------------

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

/** Resource types that kubernetes objects use: the mock echoes inputs with a status-less object. */
function kubernetesState(type: string, inputs: Record<string, any>, name: string): Record<string, any> | undefined {
  if (!type.startsWith("kubernetes:")) return undefined;
  const metadata = { ...(inputs.metadata ?? {}) };
  metadata.name ??= `${name}-mock`;
  return { ...inputs, metadata };
}

/**
 * Provider state that survives between program runs, as the engine's state does: a tls
 * resource whose inputs did not change keeps its key or certificate. Keyed by type, name
 * and inputs (PEM inputs by digest).
 */
const providerState = new Map<string, Record<string, any>>();
function stateKey(type: string, name: string, inputs: Record<string, any>): string {
  const norm = JSON.stringify(inputs, (_k, v) => (typeof v === "string" && v.includes("-----BEGIN") ? crypto.createHash("sha256").update(v).digest("hex") : v));
  return `${type}\0${name}\0${norm}`;
}

/** `established`: the nodes the previous `up` recorded (what the program reads from its own stack). */
export function mocks(rec: Recorder, established: string[] = []): pulumi.runtime.Mocks {
  return {
    async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
      if (args.type === "pulumi:pulumi:Stack") return { id: undefined, state: {} };
      if (args.type === "pulumi:pulumi:StackReference") {
        rec.stackReferences.push(args.inputs.name);
        return { id: args.inputs.name, state: stackReferenceState(args.inputs.name, established) };
      }
      const secretPaths: string[] = [];
      const plainStrings: Array<{ path: string; value: string }> = [];
      const inputs = unwrap(args.inputs, "", secretPaths, plainStrings, false);
      const entry: Recorded = { type: args.type, name: args.name, custom: args.custom !== false, inputs, secretPaths, plainStrings, state: {} };
      rec.resources.push(entry);
      if (args.custom === false) return { id: undefined, state: {} };
      const fn = STATE[args.type];
      const key = stateKey(args.type, args.name, inputs);
      const kept = /^(tls|random):/.test(args.type) ? providerState.get(key) : undefined;
      const state = kept ?? (fn ? await fn(inputs, args.name) : kubernetesState(args.type, inputs, args.name));
      if (state && /^(tls|random):/.test(args.type)) providerState.set(key, state);
      if (!state) throw new Error(`mock: no outputs defined for resource type ${args.type} (${args.name}); add it to test/mocks.ts`);
      entry.state = state;
      return { id: `${args.name}-id`, state };
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
      rec.invokes.push(args.token);
      throw new Error(`mock: invoke ${args.token} is not mocked; the program must not depend on it silently`);
    },
  };
}
