// The README's commands that reach the stack, run for real with a stand-in `pulumi` on PATH:
// npm run kubeconfig / ssh-key (.ci/stack-file.sh through .ci/pulumi.sh) against a stack the
// stand-in engine made — the stand-in answers `stack output` from that run's outputs the way
// the CLI does (a secret prints as [secret] without --show-secrets, an output the stack
// lacks is an error) — and the wrapper's choice of stack and settings file: the example
// Pulumi.dev.yaml is never the file Pulumi writes to (it adds the secrets salt and quotes
// numbers: measured with the CLI 3.276.0).
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
if [[ \${words[0]} == stack && \${words[1]} == ls ]]; then echo "\${STUB_STACKS:-[]}"; exit 0; fi
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
case \${words[0]} in up|preview|destroy|refresh) exit 0 ;; esac
echo "stand-in pulumi: $* is not handled" >&2
exit 2
`;

/** A copy of the project's skeleton in a new directory — its scripts, the project and example stack files — with a stand-in pulumi in bin/. */
function skeleton(prefix: string): string {
  const dir = tmpdir(prefix);
  for (const d of [".ci", "node_modules", "bin"]) fs.mkdirSync(path.join(dir, d));
  for (const f of [".ci/pulumi.sh", ".ci/stack-file.sh", "Pulumi.yaml", "Pulumi.dev.yaml"]) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, "bin/pulumi"), PULUMI_STUB, { mode: 0o755 });
  return dir;
}

describe("npm run kubeconfig / ssh-key, against a stack the stand-in engine made", () => {
  let dir = "";
  let env: Record<string, string> = {};
  let outputs: Record<string, { value: unknown; secret: boolean }> = {};

  beforeAll(async () => {
    dir = skeleton("stack-commands-");
    const { outputs: raw, error } = await runProgram(stackConfig("dev"));
    expect(error).toBeUndefined();
    for (const [k, v] of Object.entries(raw!)) outputs[k] = await settle(pulumi.output(v));
    fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(outputs));
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
    run("env", ["-C", dir, ...Object.entries({ ...env, ...extra }).map(([k, v]) => `${k}=${v}`), "bash", path.join(dir, ".ci/stack-file.sh"), ...args]);

  it.each([
    ["kubeconfig", "adminKubeconfig", "admin.conf"],
    ["ssh-key", "sshPrivateKey", "lab-key"],
  ])("%s writes the secret output %s into a file only its owner can read", (what, output, file) => {
    expect(outputs[output].secret).toBe(true);
    // (a real secret: the stand-in engine answers the key and kubeconfig with real material)
    expect(String(outputs[output].value)).toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----|client-certificate-data/);
    const target = path.join(dir, file);
    const r = stackFile([what, target]);
    expect({ status: r.status, stderr: r.stderr.split("\n").filter((l) => !l.startsWith("pulumi.sh: ")).join("\n") }).toEqual({ status: 0, stderr: `${output} written to ${target} (mode 600)\n` });
    expect(r.stdout.trim()).toBe(target);
    expect(fs.readFileSync(target, "utf8").trim()).toBe(String(outputs[output].value).trim());
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(target, "utf8")).not.toContain("[secret]");
    // on the project's stack, through the wrapper
    expect(fs.readFileSync(path.join(dir, "log"), "utf8")).toContain(`stack --stack lab output --show-secrets ${output}`);
  });

  it("says what to do when the stack has no such output yet, and leaves no file", () => {
    const target = path.join(dir, "missing.conf");
    const r = stackFile(["kubeconfig", target], { STUB_OUTPUTS: path.join(dir, "empty.json") });
    fs.writeFileSync(path.join(dir, "empty.json"), "{}");
    const again = stackFile(["kubeconfig", target], { STUB_OUTPUTS: path.join(dir, "empty.json") });
    for (const x of [r, again]) expect(x.status).toBe(1);
    expect(again.stderr).toContain("the lab's stack has no adminKubeconfig yet: stand the lab up first (npm run up");
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("missing.conf"))).toEqual([]);
  });

  it("refuses what it does not know", () => {
    expect(stackFile(["token"])).toMatchObject({ status: 2, stderr: expect.stringContaining("usage: stack-file.sh kubeconfig|ssh-key") });
  });
});

describe("the wrapper's stack: the example Pulumi.dev.yaml stays the project's", () => {
  let dir = "";
  const example = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");

  beforeEach(() => {
    dir = skeleton("wrapper-");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const wrapper = (args: string[], extra: Record<string, string> = {}) => {
    const env = { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, STUB_LOG: path.join(dir, "log"), ...extra };
    const r = run("env", [...Object.entries(env).map(([k, v]) => `${k}=${v}`), "bash", path.join(dir, ".ci/pulumi.sh"), ...args]);
    const log = fs.existsSync(path.join(dir, "log")) ? fs.readFileSync(path.join(dir, "log"), "utf8").trim().split("\n") : [];
    return { ...r, log };
  };

  it("runs a new lab on the stack lab, with settings made from the example, which stays untouched", () => {
    const r = wrapper(["up", "--yes"]);
    expect(r.status).toBe(0);
    expect(r.log).toEqual(["stack ls --json", "stack select lab --create --secrets-provider passphrase", "up --stack lab --yes"]);
    expect(fs.readFileSync(path.join(dir, "Pulumi.lab.yaml"), "utf8")).toBe(example);
    expect(r.stderr).toContain("Pulumi.lab.yaml holds your lab's settings, made from the example Pulumi.dev.yaml");
    // the user's edits are kept: the copy is made once
    fs.appendFileSync(path.join(dir, "Pulumi.lab.yaml"), "  k8s-lab:cni: bridge\n");
    expect(wrapper(["preview"]).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, "Pulumi.lab.yaml"), "utf8")).toContain("k8s-lab:cni: bridge");
    expect(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")).toBe(example);
    // and git leaves the labs' files alone, the example tracked
    const ignore = fs.readFileSync(path.join(ROOT, ".gitignore"), "utf8").split("\n");
    expect(ignore).toEqual(expect.arrayContaining(["Pulumi.*.yaml", "!Pulumi.dev.yaml"]));
  });

  it("keeps the dev stack of a lab made before, and says so", () => {
    const r = wrapper(["preview"], { STUB_STACKS: JSON.stringify([{ name: "dev", current: true }]) });
    expect(r.status).toBe(0);
    expect(r.log.slice(-1)).toEqual(["preview --stack dev"]);
    expect(r.stderr).toContain("using the dev stack, which a lab made by an earlier version of this project runs on");
    expect(fs.existsSync(path.join(dir, "Pulumi.lab.yaml"))).toBe(false);
  });

  it("a second lab needs its own settings file, and says how to make it", () => {
    const r = wrapper(["up"], { STACK: "lab2" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("there is no Pulumi.lab2.yaml: copy Pulumi.dev.yaml to it and give it its own clusterName, nodeCidr and node IPs");
    expect(r.log).toEqual([]);
    fs.copyFileSync(path.join(dir, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.lab2.yaml"));
    expect(wrapper(["up"], { STACK: "lab2" }).log.slice(-1)).toEqual(["up --stack lab2"]);
  });
});
