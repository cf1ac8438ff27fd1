// npm run render -- --stack dev --out <dir> [--test-pki]
// Writes the whole plan of a stack as files: no Pulumi CLI, no hypervisor, no network.
// Key material is a clearly marked placeholder, or with --test-pki real test certificates
// (then the tree is not byte-identical between runs). The output directory must be new,
// empty or a previous render; nothing else in it is ever deleted.
import * as path from "path";
import { PROJECT, formatErrors, loadConfig, readStackFile, valuesAsEngineGives } from "../components/config";
import { renderTree, writeTree } from "../components/render";
import { issueTestPki } from "./test-pki";

const ROOT = path.resolve(__dirname, "..");

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
  // read exactly as the engine hands config to the program
  const loaded = loadConfig(valuesAsEngineGives(readStackFile(ROOT, stack)));
  if (!loaded.config) {
    console.error(formatErrors(loaded.errors));
    return 1;
  }
  const c = loaded.config;
  const pki = process.argv.includes("--test-pki") ? await issueTestPki(c) : undefined;
  const files = renderTree(c, { material: pki?.material, sshPublicKey: pki?.sshPublicKey });
  writeTree(path.resolve(out), files);
  const summary = JSON.parse(files.get("summary.json")!);
  console.log(`rendered ${files.size} files for ${PROJECT} stack ${stack} into ${path.resolve(out)}`);
  console.log(`critical path: ${summary.criticalPath.length} host steps; SSH sessions per node: ${JSON.stringify(summary.sshSessionsPerNode)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
