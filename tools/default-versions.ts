// Prints the program's default release versions and the tags of the images the lab builds
// as shell assignments, for the lab's build scripts (eval "$(npx tsx tools/default-versions.ts)"):
// the versions are written once, in the config model (components/config), not again in the scripts.
import { CONFIG_KEYS } from "../components/config/keys";
import { DEFAULT_IMAGES } from "../components/config/versions";

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
// and the images the lab builds itself: the tag of each, without a leading v
const tag = (ref: string) => ref.split("@")[0].split(":").pop()!;
console.log(`DEFAULT_PAUSE_VERSION=${tag(DEFAULT_IMAGES.pause)}`);
console.log(`DEFAULT_COREDNS_VERSION=${tag(DEFAULT_IMAGES.coredns).replace(/^v/, "")}`);
console.log(`DEFAULT_FLANNEL_VERSION=${tag(DEFAULT_IMAGES.flannel)}`);
