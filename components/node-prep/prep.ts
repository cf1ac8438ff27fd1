// Node prep: what every node needs before Kubernetes binaries run — swap off for good,
// kernel modules, sysctls, firewall and SELinux per distro family, the packages later
// layers use, and a check that names any binary still missing. The same settings go into
// cloud-init for VMs; this step makes `existing` hosts and pre-baked images equal.
// Depends on: config, host/plan.
import { ClusterConfig, NodeSpec, WEAVE_IPTABLES_BACKEND } from "../config";
import { HostStepPlan, OS_FAMILY } from "../host/plan";

export const KERNEL_MODULES = ["overlay", "br_netfilter"];
export const SYSCTLS: Record<string, string> = {
  "net.bridge.bridge-nf-call-iptables": "1",
  "net.bridge.bridge-nf-call-ip6tables": "1",
  "net.ipv4.ip_forward": "1",
};
type Family = "debian" | "rhel";
/** The local apiserver proxy's packages by distro family (nginx with the stream module, or haproxy). */
export const PROXY_PACKAGES: Record<"nginx" | "haproxy", Record<Family, string[]>> = {
  nginx: { debian: ["nginx-light", "libnginx-mod-stream"], rhel: ["nginx", "nginx-mod-stream"] },
  haproxy: { debian: ["haproxy"], rhel: ["haproxy"] },
};
/** Packages by distro family with a local proxy's among the others. */
export function packages(family: Family, proxy: keyof typeof PROXY_PACKAGES): string[] {
  const tools = { debian: ["conntrack", "socat", "ipset", "iptables", "nftables"], rhel: ["conntrack-tools", "socat", "ipset", "iptables", "nftables"] }[family];
  return [...tools, ...PROXY_PACKAGES[proxy][family], "curl", "ca-certificates", "chrony"];
}
/** The packages node prep installs for a cluster. */
export const packagesFor = (c: ClusterConfig, family: Family): string[] => packages(family, c.network.localProxy);
/** What a guest image built for the lab holds: every package any cluster's prep asks for. */
export const IMAGE_PACKAGES = {
  debian: [...new Set([...packages("debian", "nginx"), ...packages("debian", "haproxy")])],
  rhel: [...new Set([...packages("rhel", "nginx"), ...packages("rhel", "haproxy")])],
};
/** Binaries checked after prep for this cluster, with what needs each. */
export function requiredBinaries(c: ClusterConfig): Record<string, string> {
  return {
    conntrack: "kube-proxy",
    socat: "kubectl port-forward",
    ipset: "weave-net",
    iptables: "kube-proxy",
    [c.network.localProxy]: "the local apiserver proxy",
    curl: "artifact downloads",
    tar: "artifact installs",
    sha256sum: "checksum checks",
    sha512sum: "checksum checks",
    ...(c.network.kubeProxyMode === "nftables" ? { nft: "kube-proxy in nftables mode" } : {}),
  };
}

/** weave-net writes with the nf_tables backend (WEAVE_IPTABLES_BACKEND): the node's iptables must too. */
export function weaveBackendCheck(node: NodeSpec): string[] {
  // how `iptables -V` names each backend
  const word = ({ nft: "nf_tables", legacy: "legacy" } as const)[WEAVE_IPTABLES_BACKEND];
  return [
    `# weave-net writes iptables rules with the ${word} backend: so must this node, or kube-proxy's and weave's rules end up in different tables`,
    `if ! iptables -V | grep -q ${word}; then echo "node ${node.name}: weave-net uses the ${word} backend of iptables, but this node's iptables is '$(iptables -V)'; switch it (update-alternatives --set iptables /usr/sbin/iptables-nft) or set cni to flannel" >&2; exit 1; fi`,
  ];
}

/**
 * Ports nodes open to each other (firewalld); documented in docs/design.md as well.
 * controller-manager (10257) and scheduler (10259) listen on loopback only: not opened.
 */
export function firewallPorts(c: ClusterConfig): string[] {
  const ports = ["2379-2380/tcp", `${c.network.apiserverPort}/tcp`, "10250/tcp", "30000-32767/tcp"];
  if (c.addons.cni === "weave") ports.push("6783/tcp", "6783-6784/udp");
  else if (c.addons.cni === "flannel") ports.push("8472/udp");
  return ports;
}

/** sed program that comments out every active swap line of /etc/fstab (marked, so delete can undo it). */
export const FSTAB_SWAP_OFF = "/^[^#].*\\sswap\\s/s/^/#k8s-lab# /";
/** Masks every swap unit systemd knows (generated from fstab or images' swap files). */
// `systemctl list-unit-files` exits 1 when no unit matches (a guest with no swap at all), so
// its status is not the pipeline's: under pipefail the script would die with no message.
export const MASK_SWAP_UNITS = "{ systemctl list-unit-files --type=swap --no-legend 2>/dev/null || true; } | awk '{print $1}' | xargs -r systemctl mask";
/** Undoes MASK_SWAP_UNITS (same exit-status care). */
export const UNMASK_SWAP_UNITS = "{ systemctl list-unit-files --type=swap --state=masked --no-legend 2>/dev/null || true; } | awk '{print $1}' | xargs -r systemctl unmask";

export const MODULES_FILE = "/etc/modules-load.d/k8s-lab.conf";
export const SYSCTL_FILE = "/etc/sysctl.d/90-k8s-lab.conf";
export const PROXY_ENV_FILE = "/etc/k8s-lab/proxy.env";

export function proxyEnvironment(c: ClusterConfig): Record<string, string> {
  if (!c.proxy) return {};
  const noProxy = c.proxy.noProxy.join(",");
  const env: Record<string, string> = { NO_PROXY: noProxy, no_proxy: noProxy };
  if (c.proxy.http) Object.assign(env, { HTTP_PROXY: c.proxy.http, http_proxy: c.proxy.http });
  if (c.proxy.https) Object.assign(env, { HTTPS_PROXY: c.proxy.https, https_proxy: c.proxy.https });
  return env;
}

export function planNodePrep(c: ClusterConfig, node: NodeSpec): HostStepPlan {
  const env = proxyEnvironment(c);
  const envLines = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const install = c.hypervisor.skipPackageInstall
    ? ["# skipPackageInstall: the image already has the packages"]
    : [
        `if ! command -v conntrack >/dev/null || ! command -v socat >/dev/null || ! command -v ${c.network.localProxy} >/dev/null; then`,
        "  # shellcheck source=/dev/null",
        `  if [[ -f ${PROXY_ENV_FILE} ]]; then set -a; . ${PROXY_ENV_FILE}; set +a; fi`,
        `  case "$family" in`,
        `    debian) DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${packagesFor(c, "debian").join(" ")} ;;`,
        `    rhel) dnf install -y -q ${packagesFor(c, "rhel").join(" ")} ;;`,
        "  esac",
        "fi",
      ];
  return {
    node: node.name,
    ip: node.ip,
    layer: "prep",
    description: "swap off for good, kernel modules, sysctls, firewall, SELinux, packages",
    files: [
      { path: MODULES_FILE, content: KERNEL_MODULES.join("\n") + "\n", mode: "0644" },
      { path: SYSCTL_FILE, content: Object.entries(SYSCTLS).map(([k, v]) => `${k} = ${v}`).join("\n") + "\n", mode: "0644" },
      ...(envLines.length ? [{ path: PROXY_ENV_FILE, content: envLines.join("\n") + "\n", mode: "0644" }] : []),
    ],
    activate: [
      ...OS_FAMILY,
      "# swap: off now, and never again (fstab lines commented, swap units masked)",
      "swapoff -a",
      `sed -ri '${FSTAB_SWAP_OFF}' /etc/fstab`,
      MASK_SWAP_UNITS,
      `for m in ${KERNEL_MODULES.join(" ")}; do modprobe "$m"; done`,
      "sysctl --system >/dev/null",
      ...install,
      "# firewall: open what the cluster uses between nodes; SELinux: permissive (binaries outside packages carry no labels)",
      "if systemctl is-active -q firewalld 2>/dev/null; then",
      ...firewallPorts(c).map((p) => `  firewall-cmd -q --permanent --add-port=${p}`),
      `  firewall-cmd -q --permanent --zone=trusted --add-source=${c.network.podCidr}`,
      "  firewall-cmd -q --reload",
      "fi",
      "if command -v setenforce >/dev/null && [[ $(getenforce) == Enforcing ]]; then setenforce 0; fi",
      "if [[ -f /etc/selinux/config ]]; then sed -ri 's/^SELINUX=enforcing/SELINUX=permissive/' /etc/selinux/config; fi",
      "missing=()",
      `for b in ${Object.keys(requiredBinaries(c)).join(" ")}; do command -v "$b" >/dev/null || missing+=("$b"); done`,
      `if ((\${#missing[@]})); then echo "node ${node.name} is missing: \${missing[*]} (install them, or set skipPackageInstall=false)" >&2; exit 1; fi`,
      ...(c.addons.cni === "weave" ? weaveBackendCheck(node) : []),
    ],
    deactivate: [
      "sed -ri 's/^#k8s-lab# //' /etc/fstab",
      UNMASK_SWAP_UNITS,
      `sysctl -w ${Object.keys(SYSCTLS).map((k) => `${k}=0`).join(" ")} >/dev/null 2>&1 || true`,
    ],
    healthGate: "every required binary is on PATH",
  };
}
