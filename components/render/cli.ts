// npm run render -- --stack dev --out <dir> [--test-pki]
// Writes the whole plan of a stack as files: no Pulumi CLI, no hypervisor, no network.
// Key material is a clearly marked placeholder, or with --test-pki real test certificates
// (then the tree is not byte-identical between runs).
import { randomBytes } from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, PROJECT, engineConfig, formatErrors, loadConfig, readStackFile, valuesAsEngineGives } from "../config";
import { countByType, criticalPath, evaluateProgram, plainInputs, sshSessionsPerHost, Program } from "./evaluate";
import { PlanNumbers, hostStepsPerNode, renderTree, writeTree } from ".";
import type { MaterialRef } from "../host/plan";

const ROOT = path.resolve(__dirname, "..", "..", "..");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const stack = arg("stack") ?? "dev";
  const out = arg("out");
  if (!out) {
    console.error("usage: npm run render -- --stack dev --out <dir> [--test-pki]");
    return 2;
  }
  const values = readStackFile(ROOT, stack);
  const loaded = loadConfig(valuesAsEngineGives(values));
  if (!loaded.config) {
    console.error(formatErrors(loaded.errors));
    return 1;
  }
  const c = loaded.config;

  // the program itself, under the stand-in engine: the numbers come from what it registers
  const { default: program } = (await import("../../index")) as unknown as { default: Program };
  const evaluation = await evaluateProgram(program, { project: PROJECT, stack, config: engineConfig(values) });
  if (evaluation.error) throw evaluation.error;
  const ipToName = Object.fromEntries(c.nodes.map((n) => [n.ip, n.name]));
  const numbers: PlanNumbers = {
    resourcesByType: countByType(evaluation.resources),
    hostStepsPerNode: hostStepsPerNode(c),
    sshSessionsPerNode: Object.fromEntries(Object.entries(sshSessionsPerHost(evaluation.resources)).map(([ip, n]) => [ipToName[ip] ?? ip, n])),
    criticalPath: criticalPath(evaluation.resources),
  };

  let material: ((ref: MaterialRef) => string) | undefined;
  let sshPublicKey: string | undefined;
  if (process.argv.includes("--test-pki")) {
    const issued = await issueTestPki(c, stack);
    material = issued.material;
    sshPublicKey = issued.sshPublicKey;
  }
  const files = renderTree(c, { material, sshPublicKey, numbers });
  writeTree(path.resolve(out), files);
  console.log(`rendered ${files.size} files for stack ${stack} into ${path.resolve(out)}`);
  console.log(`critical path: ${numbers.criticalPath.length} host steps; SSH sessions per node: ${JSON.stringify(numbers.sshSessionsPerNode)}`);
  return 0;
}

/** Issues the cluster's PKI with the tls emulator, through the real ClusterPki component. */
async function issueTestPki(c: ClusterConfig, stack: string) {
  const { certRequest, generateKey, locallySignedCert, selfSignedCert } = await import("./tls-emulator");
  await pulumi.runtime.setMocks(
    {
      async newResource(a) {
        const i = plainInputs(a.inputs);
        switch (a.type) {
          case "tls:index/privateKey:PrivateKey": return { id: a.name, state: { ...i, ...generateKey(i) } };
          case "tls:index/selfSignedCert:SelfSignedCert": return { id: a.name, state: await selfSignedCert(i) };
          case "tls:index/certRequest:CertRequest": return { id: a.name, state: await certRequest(i) };
          case "tls:index/locallySignedCert:LocallySignedCert": return { id: a.name, state: await locallySignedCert(i) };
          default: return { id: a.name, state: {} };
        }
      },
      call: (a) => { throw new Error(`render: unexpected invoke ${a.token}`); },
    },
    PROJECT,
    stack,
    true,
  );
  const { ClusterPki, pkiMaterial, nodeAccessKey } = await import("../pki");
  const { encryptionConfig } = await import("../control-plane/plan");
  const pki = new ClusterPki(c.name, { cluster: c });
  const resolve = pkiMaterial(pki);
  const refs = new Set<MaterialRef>();
  const { allHostSteps } = await import("./plan");
  for (const s of allHostSteps(c)) for (const f of s.files) if (typeof f.content !== "string") refs.add(f.content.ref);
  const values = new Map<MaterialRef, string>();
  for (const ref of refs) {
    if (ref === "secret:encryption-config") values.set(ref, encryptionConfig(randomBytes(32).toString("base64")));
    else values.set(ref, await new Promise<string>((ok) => resolve(ref).apply((v) => ok(v))));
  }
  const key = nodeAccessKey(c, undefined);
  const sshPublicKey = await new Promise<string>((ok) => key.publicKeyOpenssh.apply((v) => ok(v)));
  return { material: (ref: MaterialRef) => values.get(ref)!, sshPublicKey };
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
