// Prints Pulumi.yaml from the key catalogue (components/config/keys.ts): `npm run gen:project-file`.
import * as YAML from "yaml";
import { KEYS } from "./keys";
const config: Record<string, unknown> = {};
for (const k of KEYS) {
  const e: Record<string, unknown> = { type: k.type, description: k.description };
  if (k.type === "array") e.items = { type: "string" };
  if (k.default !== undefined) e.default = k.default;
  if (k.secret) e.secret = true;
  config[k.key] = e;
}
const doc = {
  name: "k8s-lab",
  description: "A Kubernetes lab cluster the hard way on KVM guests: libvirt VMs, a PKI from @pulumi/tls, etcd, apiservers behind a local nginx, containerd, kubelet, kube-proxy and addons.",
  runtime: { name: "nodejs", options: { typescript: true, packagemanager: "npm" } },
  config,
};
process.stdout.write("# Project file. The config block declares every key of the program (components/config/keys.ts\n# is the source; test/project-file.test.ts keeps the two in step). `pulumi config` shows them.\n" + YAML.stringify(doc, { lineWidth: 0 }));
