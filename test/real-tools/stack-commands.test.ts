// The README's commands that read the stack (npm run kubeconfig, npm run ssh-key), run for
// real against a stack the stand-in engine made: the project's scripts (.ci/stack-file.sh
// through .ci/pulumi.sh) with a stand-in `pulumi` on PATH that answers `stack output` from
// that run's outputs the way the CLI does — a secret prints as [secret] without
// --show-secrets, and an output the stack lacks is an error.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ROOT, runProgram, settle, stackConfig } from "../harness";
import { run, tmpdir } from "../tools";

const PULUMI_STUB = `#!/bin/bash
echo "$*" >> "$STUB_LOG"
# the words that are not flags (as cobra finds the subcommand: --stack takes a value)
words=(); skip=
for a in "$@"; do
  if [[ -n $skip ]]; then skip=; continue; fi
  case $a in --stack|-s) skip=1 ;; -*) ;; *) words+=("$a") ;; esac
done
if [[ \${words[0]} == stack && \${words[1]} == select ]]; then exit 0; fi
if [[ \${words[0]} == stack && \${words[1]} == output ]]; then
  name=\${!#}
  show=; for a in "$@"; do [[ $a == --show-secrets ]] && show=1; done
  exec node -e '
    const [file, name, show] = process.argv.slice(1);
    const outputs = JSON.parse(require("fs").readFileSync(file, "utf8"));
    const o = outputs[name];
    if (!o) { console.error("error: current stack does not have output property \\x27" + name + "\\x27"); process.exit(255); }
    if (o.secret && !show) { console.log("[secret]"); process.exit(0); }
    console.log(typeof o.value === "string" ? o.value : JSON.stringify(o.value));
  ' "$STUB_OUTPUTS" "$name" "$show"
fi
echo "stand-in pulumi: $* is not handled" >&2
exit 2
`;

describe("npm run kubeconfig / ssh-key, against a stack the stand-in engine made", () => {
  let dir = "";
  let env: Record<string, string> = {};
  let outputs: Record<string, { value: unknown; secret: boolean }> = {};

  beforeAll(async () => {
    dir = tmpdir("stack-commands-");
    const { outputs: raw, error } = await runProgram(stackConfig("dev"));
    expect(error).toBeUndefined();
    for (const [k, v] of Object.entries(raw!)) outputs[k] = await settle(pulumi.output(v));
    fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(outputs));
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(path.join(dir, "bin/pulumi"), PULUMI_STUB, { mode: 0o755 });
    env = {
      PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
      STUB_OUTPUTS: path.join(dir, "outputs.json"),
      STUB_LOG: path.join(dir, "log"),
      // the project's state directory is not touched
      PULUMI_BACKEND_URL: `file://${dir}/state`,
      PULUMI_CONFIG_PASSPHRASE: "test",
    };
  }, 60000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const stackFile = (args: string[], extra: Record<string, string> = {}) =>
    run("env", ["-C", dir, ...Object.entries({ ...env, ...extra }).map(([k, v]) => `${k}=${v}`), "bash", path.join(ROOT, ".ci/stack-file.sh"), ...args]);

  it.each([
    ["kubeconfig", "adminKubeconfig", "admin.conf"],
    ["ssh-key", "sshPrivateKey", "lab-key"],
  ])("%s writes the secret output %s into a file only its owner can read", (what, output, file) => {
    expect(outputs[output].secret).toBe(true);
    const target = path.join(dir, file);
    const r = stackFile([what, target]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: `${output} written to ${target} (mode 600)\n` });
    expect(r.stdout.trim()).toBe(target);
    expect(fs.readFileSync(target, "utf8").trim()).toBe(String(outputs[output].value).trim());
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(target, "utf8")).not.toContain("[secret]");
    // on the project's stack, through the wrapper
    expect(fs.readFileSync(path.join(dir, "log"), "utf8")).toContain(`stack --stack dev output --show-secrets ${output}`);
  });

  it("says what to do when the stack has no such output yet, and leaves no file", () => {
    const target = path.join(dir, "missing.conf");
    const r = stackFile(["kubeconfig", target], { STUB_OUTPUTS: path.join(dir, "empty.json") });
    fs.writeFileSync(path.join(dir, "empty.json"), "{}");
    const again = stackFile(["kubeconfig", target], { STUB_OUTPUTS: path.join(dir, "empty.json") });
    for (const x of [r, again]) expect(x.status).toBe(1);
    expect(again.stderr).toContain("the stack dev has no adminKubeconfig yet: stand the lab up first (npm run up");
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("missing.conf"))).toEqual([]);
  });

  it("refuses what it does not know", () => {
    expect(stackFile(["token"])).toMatchObject({ status: 2, stderr: expect.stringContaining("usage: stack-file.sh kubeconfig|ssh-key") });
  });
});
