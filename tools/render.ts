// npm run render -- --stack dev --out <dir> [--test-pki]
// Writes the whole plan of a stack as files: no Pulumi CLI, no hypervisor, no network.
// Key material is a clearly marked placeholder, or with --test-pki real test certificates
// (then the tree is not byte-identical between runs). The output directory must be new,
// empty or a previous render; nothing else in it is ever deleted.
import * as path from "path";
import { parseArgs } from "util";
import { PROJECT, formatErrors, formatProblem, loadConfig, readStackFile, valuesAsEngineGives } from "../components/config";
import { renderTree, writeTree } from "../components/render";
import { issueTestPki } from "./test-pki";

const ROOT = path.resolve(__dirname, "..");

const USAGE = "usage: npm run render -- --stack dev --out <dir> [--test-pki]";

/** The command: `argv` as after `npm run render --`, stack files read from `root`; its exit code. */
export async function render(argv: string[], root = ROOT): Promise<number> {
  let opts: { stack?: string; out?: string; "test-pki"?: boolean };
  try {
    opts = parseArgs({ args: argv, options: { stack: { type: "string" }, out: { type: "string" }, "test-pki": { type: "boolean" } }, strict: true, allowPositionals: false }).values;
  } catch (e) {
    console.error(`render: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const stack = opts.stack ?? "dev";
  const out = opts.out;
  if (!out) {
    console.error(USAGE);
    return 2;
  }
  // read exactly as the engine hands config to the program
  // (the render may run anywhere: the base image need not be on this machine)
  const loaded = loadConfig(valuesAsEngineGives(readStackFile(root, stack)));
  for (const w of loaded.warnings) console.error(formatProblem(w));
  if (!loaded.config) {
    console.error(formatErrors(loaded.errors));
    return 1;
  }
  const c = loaded.config;
  const pki = opts["test-pki"] ? await issueTestPki(c) : undefined;
  const files = renderTree(c, { material: pki?.material, sshPublicKey: pki?.sshPublicKey });
  writeTree(path.resolve(out), files);
  const summary = JSON.parse(files.get("summary.json")!);
  console.log(`rendered ${files.size} files for ${PROJECT} stack ${stack} into ${path.resolve(out)}`);
  console.log(`critical path: ${summary.criticalPath.length} host steps; SSH sessions per node: ${JSON.stringify(summary.sshSessionsPerNode)}`);
  return 0;
}

if (require.main === module) {
  render(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
