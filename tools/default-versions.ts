// Prints the program's default release versions as shell assignments, for the lab's build
// scripts (eval "$(npx tsx tools/default-versions.ts)"): the versions are written once, in
// the config model (components/config/keys.ts), not again in the scripts.
import { CONFIG_KEYS } from "../components/config/keys";

const names = {
  K8S_VERSION: "kubernetesVersion",
  ETCD_VERSION: "etcdVersion",
  CONTAINERD_VERSION: "containerdVersion",
  RUNC_VERSION: "runcVersion",
  CRICTL_VERSION: "crictlVersion",
  CNI_VERSION: "cniPluginsVersion",
} as const;

for (const [shell, key] of Object.entries(names)) {
  console.log(`DEFAULT_${shell}=${CONFIG_KEYS[key].default}`);
}
