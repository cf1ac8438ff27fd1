// Prints Pulumi.yaml from the key catalogue (components/config/keys.ts): `npm run gen:project-file`.
// The engine treats every key declared under `config:` without a default as required
// (pulumi/pulumi, sdk/go/common/workspace/config.go, mergeConfig: "Stack '…' is missing
// configuration values"), and a declared `secret: true` key whose value is not encrypted as
// an error. So only keys with a default are declared; the optional ones are listed in the
// file's header comment, where `pulumi config` readers find them too.
import * as YAML from "yaml";
import { KEYS, KeySpec } from "./keys";

/** Keys that Pulumi.yaml declares: those with a default. */
export const DECLARED_KEYS: KeySpec[] = KEYS.filter((k) => k.default !== undefined);
/** Optional keys: read by the program, not declared (a declaration would make them required). */
export const OPTIONAL_KEYS: KeySpec[] = KEYS.filter((k) => k.default === undefined);

export function projectFile(): string {
  const config: Record<string, unknown> = {};
  for (const k of DECLARED_KEYS) {
    const e: Record<string, unknown> = { type: k.type, description: k.description };
    if (k.type === "array") e.items = { type: "string" };
    e.default = k.default;
    config[k.key] = e;
  }
  const doc = {
    name: "k8s-lab",
    description: "A Kubernetes lab cluster the hard way on KVM guests: libvirt VMs, a PKI from @pulumi/tls, etcd, apiservers behind a local nginx, containerd, kubelet, kube-proxy and addons.",
    runtime: { name: "nodejs", options: { typescript: true, packagemanager: "npm" } },
    config,
  };
  const header = [
    "# Project file, generated from components/config/keys.ts (npm run gen:project-file; a test keeps",
    "# the two in step). `config:` declares every key that has a default. Pulumi makes a declared key",
    "# without a default required, so these optional keys are read by the program but not declared",
    "# (set them with `pulumi config set KEY VALUE`; --secret where marked):",
    ...OPTIONAL_KEYS.map((k) => `#   ${k.key} (${k.type}${k.secret ? ", secret" : ""}): ${k.description}`),
  ];
  return header.join("\n") + "\n" + YAML.stringify(doc, { lineWidth: 0 });
}

if (require.main === module) process.stdout.write(projectFile());
