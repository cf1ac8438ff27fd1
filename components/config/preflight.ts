// Preflight: every rule a config must pass before any resource is registered, and the
// one entry point (`loadConfig`) that turns raw key values into a checked model.
// Owns: the rules and their messages. Depends on: model, network, versions.
import * as fs from "fs";
import * as path from "path";
import { ClusterConfig, DraftConfig, Problem, errorAt as err, labApiserverName, labDnsDomain, nodesWith, warningAt as warn } from "./model";
import { parseRaw } from "./raw";
import { completeModel, deriveModel } from "./derive";
import { settingsRules } from "./settings-rules";
import { Cidr, broadcastAddress, contains, ipToInt, isIPv4, nthAddress, overlaps, parseCidr, podSubnetOf, slash24Count } from "./network";
import { ArtifactName, COMPONENTS, COMPONENT_OF, ComponentName, ImageName, VERSION_KEYS, isDigest } from "./versions";
import { quorum } from "./last-up";
import { hypervisorRules } from "./hypervisors";
import { ImageArchive, normalizeImageRef, readImageArchives } from "./image-archives";

/** What preflight may look at outside the config. */
export interface PreflightEnv {
  fileExists(p: string): boolean;
  /** The image archives of a directory (throws with the reason when it cannot). */
  imageArchives(dir: string): ImageArchive[];
  /**
   * Whether the base image must be on this machine: when Pulumi runs here (it uploads the
   * image from here: the program's runEnv), not for the render, which may run anywhere.
   */
  baseImageHere?: boolean;
}
export const realEnv: PreflightEnv = { fileExists: (p) => fs.existsSync(p), imageArchives: readImageArchives };
/** What the program checks when Pulumi runs it: the machine's files, the base image among them. */
export const runEnv: PreflightEnv = { ...realEnv, baseImageHere: true };

/** Kubernetes minors this program's templates are written for. */
export const SUPPORTED_KUBERNETES_MINORS = [34, 35, 36, 37];
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function semver(v: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function suggestLabel(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
  return s || "node-1";
}

function nodeRules(c: DraftConfig, nodeCidr: Cidr | undefined): Problem[] {
  const out: Problem[] = [];
  const byName = new Map<string, number>();
  const byIp = new Map<string, number>();
  for (const n of c.nodes) {
    const key = `nodes[${n.index}]`;
    if (!DNS1123_LABEL.test(n.name) || n.name.length > 63) {
      out.push(err(key, `node name '${n.name}' is not a DNS-1123 label (lowercase letters, digits and '-', at most 63, starting and ending alphanumeric); kubelet registration and certificates break on it`, `rename it, e.g. name=${suggestLabel(n.name)}`));
    }
    if (byName.has(n.name)) out.push(err(key, `node name '${n.name}' is already used by nodes[${byName.get(n.name)}]`, "give every node its own name"));
    else byName.set(n.name, n.index);
    if (!isIPv4(n.ip)) {
      out.push(err(key, `ip=${n.ip} is not an IPv4 address`, "write a dotted-quad address inside nodeCidr, e.g. ip=192.168.253.140"));
      continue;
    }
    if (byIp.has(n.ip)) out.push(err(key, `ip=${n.ip} is already used by nodes[${byIp.get(n.ip)}]`, "give every node its own IP"));
    else byIp.set(n.ip, n.index);
    if (nodeCidr) {
      if (!contains(nodeCidr, n.ip)) {
        out.push(err(key, `ip=${n.ip} is outside nodeCidr ${nodeCidr.text}`, `pick an address inside ${nodeCidr.text}, or change nodeCidr`));
      } else if (n.ip === nthAddress(nodeCidr, 0) || n.ip === broadcastAddress(nodeCidr)) {
        out.push(err(key, `ip=${n.ip} is the network or broadcast address of ${nodeCidr.text}`, "pick a host address"));
      } else if (c.hypervisor.mode === "libvirt" && n.ip === c.network.gateway) {
        out.push(err(key, `ip=${n.ip} is the gateway of the libvirt network (first host of ${nodeCidr.text})`, `pick another address, e.g. ${nthAddress(nodeCidr, Math.min(10, nodeCidr.size - 2))}`));
      }
    }
    if (n.roles.size === 0) out.push(err(key, `node '${n.name}' has no roles`, "set roles=etcd,control-plane,worker (any of them)"));
    if (n.roles.has("control-plane") && n.vcpu < 2) {
      out.push(err(key, `control-plane node '${n.name}' has ${n.vcpu} vCPU; kube-apiserver, etcd and the controllers need at least 2 (kubeadm's minimum)`, "set vcpu=2 or more on it (or nodeVcpu)"));
    }
    if (n.roles.has("control-plane") && n.memoryMiB < 2048) {
      out.push(err(key, `control-plane node '${n.name}' has ${n.memoryMiB} MiB; it needs at least 2048 MiB (kubeadm's minimum)`, "set memoryMiB=2048 or more on it (or nodeMemoryMiB)"));
    } else if (n.memoryMiB < 1024) {
      out.push(err(key, `node '${n.name}' has ${n.memoryMiB} MiB; every node needs at least 1024 MiB`, "set memoryMiB=1024 or more"));
    }
  }
  if (c.nodes.length === 0) out.push(err("nodes", "no nodes are configured", "add at least one entry: 'name=k8s-1 ip=192.168.253.140 roles=etcd,control-plane,worker'"));
  return out;
}

function roleRules(c: DraftConfig): Problem[] {
  if (c.nodes.length === 0) return [];
  const out: Problem[] = [];
  const etcd = nodesWith(c, "etcd").length;
  if (etcd === 0) out.push(err("nodes", "no node has the etcd role", "add roles=etcd to 1, 3 or 5 nodes"));
  else if (etcd % 2 === 0) {
    const tolerated = etcd - quorum(etcd);
    out.push(warn("nodes", `${etcd} etcd members tolerate ${tolerated} failed member${tolerated === 1 ? "" : "s"}, no more than ${etcd - 1} do: the extra member is one more machine that can fail, and the quorum grows to ${quorum(etcd)}`, `use ${etcd - 1} or ${etcd + 1} etcd members`));
  }
  if (nodesWith(c, "control-plane").length === 0) out.push(err("nodes", "no node has the control-plane role", "add roles=control-plane to at least one node"));
  if (nodesWith(c, "worker").length === 0) out.push(err("nodes", "no node has the worker role; nothing could run pods (CoreDNS would stay Pending)", "add roles=worker to at least one node"));
  const members = nodesWith(c, "etcd").map((n) => n.name);
  for (const [i, name] of c.etcdRejoin.entries()) {
    if (!members.includes(name)) out.push(err("etcdRejoin", `'${name}' is not an etcd member of this config (${members.join(", ") || "none"})`, "name a node with the etcd role whose data was lost"));
    else if (c.etcdRejoin.indexOf(name) !== i) out.push(err("etcdRejoin", `'${name}' is named twice`, "name each member once"));
    else if (c.rebuildNodes.includes(name)) out.push(err("etcdRejoin", `'${name}' is also in rebuildNodes, whose new machine rejoins etcd anyway`, `take '${name}' out of etcdRejoin`));
  }
  for (const [i, name] of c.rebuildNodes.entries()) {
    if (c.hypervisor.mode !== "libvirt") out.push(err("rebuildNodes", `names '${name}', but the nodes are existing machines (hostMode: existing), which this program does not make`, "take it out: a new machine behind an existing node does not run the node's steps again (docs/limits.md); to take the lab down with the machine gone, name it in lostMachines, run pulumi up, then pulumi destroy"));
    else if (!c.nodes.some((n) => n.name === name)) out.push(err("rebuildNodes", `'${name}' is not a node of this config (${c.nodes.map((n) => n.name).join(", ")})`, "name a node whose machine is to be made again"));
    else if (c.rebuildNodes.indexOf(name) !== i) out.push(err("rebuildNodes", `'${name}' is named twice`, "name each node once"));
  }
  for (const [i, name] of c.lostMachines.entries()) {
    if (c.hypervisor.mode === "libvirt") out.push(err("lostMachines", `names '${name}', but the nodes are lab VMs, whose steps go with their disks anyway`, "take it out: pulumi destroy finishes with a VM gone; or name the node in rebuildNodes to make its machine again"));
    else if (!c.nodes.some((n) => n.name === name)) out.push(err("lostMachines", `'${name}' is not a node of this config (${c.nodes.map((n) => n.name).join(", ")})`, "name a node whose machine is gone, and keep it in nodes until the destroy"));
    else if (c.lostMachines.indexOf(name) !== i) out.push(err("lostMachines", `'${name}' is named twice`, "name each node once"));
  }
  return out;
}

function networkRules(c: DraftConfig): { problems: Problem[]; nodeCidr?: Cidr } {
  const out: Problem[] = [];
  const cidrs: Array<[string, Cidr]> = [];
  const parsed: Record<string, Cidr | undefined> = {};
  for (const [key, value, example] of [
    ["nodeCidr", c.network.nodeCidr, "192.168.253.0/24"],
    ["podCidr", c.network.podCidr, "10.244.0.0/16"],
    ["serviceCidr", c.network.serviceCidr, "10.96.0.0/12"],
  ] as const) {
    const p = parseCidr(value);
    parsed[key] = p;
    if (!p) out.push(err(key, `'${value}' is not an IPv4 CIDR`, `write it as ADDRESS/PREFIX, e.g. ${example}`));
    else cidrs.push([key, p]);
  }
  for (let i = 0; i < cidrs.length; i++) {
    for (let j = i + 1; j < cidrs.length; j++) {
      const [ka, a] = cidrs[i];
      const [kb, b] = cidrs[j];
      if (overlaps(a, b)) {
        out.push(err(kb, `${kb} ${b.text} overlaps ${ka} ${a.text}; routing between nodes, pods and services would break`, `choose non-overlapping ranges, e.g. podCidr 10.244.0.0/16 and serviceCidr 10.96.0.0/12 for a 192.168.x.0/24 node network`));
      }
    }
  }
  const pod = parsed.podCidr;
  if (pod && slash24Count(pod) < Math.max(1, c.nodes.length)) {
    out.push(err("podCidr", `${pod.text} cannot give each of the ${c.nodes.length} nodes a /24`, `use a prefix of /${Math.min(24, 24 - Math.ceil(Math.log2(Math.max(1, c.nodes.length))))} or shorter, e.g. 10.244.0.0/16`));
  }
  if (c.addons.cni === "bridge" && pod && parsed.nodeCidr) {
    for (const n of c.nodes) {
      if (isIPv4(n.ip) && contains(parsed.nodeCidr, n.ip) && !podSubnetOf(pod, parsed.nodeCidr, n.ip)) {
        out.push(err("podCidr", `${pod.text} has no /24 numbered like ${n.name}'s address ${n.ip} (cni: bridge gives node .N the pod subnet N of podCidr)`, `use a pod CIDR with at least ${ipToInt(n.ip) - parsed.nodeCidr.network + 1} /24s, e.g. 10.244.0.0/16`));
      }
    }
  }
  const svc = parsed.serviceCidr;
  if (svc) {
    if (svc.prefix > 28) out.push(err("serviceCidr", `${svc.text} is too small for the cluster's services`, "use /12 to /24, e.g. 10.96.0.0/12"));
    if (svc.prefix < 12) out.push(err("serviceCidr", `${svc.text} is larger than kube-apiserver allows (at most /12 for IPv4)`, "use a /12 or smaller range, e.g. 10.96.0.0/12"));
    for (const [key, ip] of [["kubernetesServiceIp", c.network.kubernetesServiceIp], ["clusterDnsIp", c.network.clusterDnsIp]] as const) {
      if (!isIPv4(ip) || !contains(svc, ip)) {
        out.push(err(key, `'${ip}' is not an address inside serviceCidr ${svc.text}`, `leave ${key} unset to derive it, or pick a host address of ${svc.text}`));
      } else if (ip === nthAddress(svc, 0) || ip === broadcastAddress(svc)) {
        out.push(err(key, `${ip} is the network or broadcast address of ${svc.text}`, "pick a host address"));
      }
    }
    if (c.network.kubernetesServiceIp === c.network.clusterDnsIp) {
      out.push(err("clusterDnsIp", `equals kubernetesServiceIp (${c.network.clusterDnsIp})`, "leave clusterDnsIp unset (the tenth address of serviceCidr) or pick another address"));
    }
    if (c.network.kubernetesServiceIp !== nthAddress(svc, 1) && isIPv4(c.network.kubernetesServiceIp)) {
      out.push(err("kubernetesServiceIp", `${c.network.kubernetesServiceIp} is not the first host of ${svc.text}; kube-apiserver always allocates that one to the 'kubernetes' service`, `leave it unset (${nthAddress(svc, 1)})`));
    }
  }
  if (c.network.apiserverPort === c.network.localProxyPort) {
    out.push(err("localProxyPort", `equals apiserverPort (${c.network.apiserverPort}); the local ${c.network.localProxy} proxy and kube-apiserver would fight over the port on control-plane nodes`, "use different ports, e.g. apiserverPort 6443 and localProxyPort 8443"));
  }
  const ep = c.network.apiserverEndpoint;
  if (ep) {
    const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
    if (!isIPv4(ep.host) && !dns.test(ep.host)) {
      out.push(err("apiserverEndpoint", `'${ep.host}' is neither an IPv4 address nor a DNS name`, "write HOST or HOST:PORT of a VIP, load balancer or DNS name in front of every control-plane node, e.g. 'api.lab.example:6443'"));
    } else if (!(ep.port >= 1 && ep.port <= 65535)) {
      out.push(err("apiserverEndpoint", `port ${ep.port} is out of range`, "write a port from 1 to 65535, or leave it out for apiserverPort"));
    } else {
      const node = c.nodes.find((n) => n.ip === ep.host);
      const domain = labDnsDomain(c);
      if (node && !node.roles.has("control-plane")) {
        out.push(err("apiserverEndpoint", `${ep.host} is node ${node.name}, which runs no kube-apiserver`, "point it at a control-plane node, or better a VIP or DNS name in front of all of them"));
      } else if (labApiserverName(c)) {
        // the lab network's DNS answers this name with every control-plane node
        const own = c.nodes.find((n) => ep.host === `${n.name}.${domain}`);
        if (own) out.push(err("apiserverEndpoint", `${ep.host} is node ${own.name}'s own name in the lab's DNS`, `use a name of its own in the lab's domain, e.g. 'api.${domain}', which the lab network answers with every control-plane node's address`));
        else if (ep.port !== c.network.apiserverPort) out.push(err("apiserverEndpoint", `${ep.host} is answered by the lab network's DNS with the control-plane nodes' addresses, where kube-apiserver listens on apiserverPort ${c.network.apiserverPort}, not ${ep.port}`, `write '${ep.host}' (or ':${c.network.apiserverPort}'), or a name outside ${domain} for a load balancer on port ${ep.port}`));
      }
    }
  }
  for (const [i, san] of c.network.extraApiserverSans.entries()) {
    if (!isIPv4(san) && !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(san)) {
      out.push(err(`extraApiserverSans[${i}]`, `'${san}' is neither an IPv4 address nor a DNS name`, "write an address or a lowercase DNS name"));
    }
  }
  return { problems: out, nodeCidr: parsed.nodeCidr };
}

function versionRules(c: DraftConfig): Problem[] {
  const out: Problem[] = [];
  const k8s = semver(c.versions.kubernetes);
  for (const [name, { key }] of Object.entries(COMPONENTS) as Array<[ComponentName, (typeof COMPONENTS)[ComponentName]]>) {
    const v = c.versions[name];
    if (!semver(v)) out.push(err(key, `'${v}' is not a release version MAJOR.MINOR.PATCH`, "write an exact release such as 1.36.0, without a leading 'v' ('latest' is not allowed)"));
  }
  if (k8s && (k8s[0] !== 1 || !SUPPORTED_KUBERNETES_MINORS.includes(k8s[1]))) {
    out.push(err("kubernetesVersion", `${c.versions.kubernetes} is not supported by this program`, `use a 1.${SUPPORTED_KUBERNETES_MINORS[0]} to 1.${SUPPORTED_KUBERNETES_MINORS[SUPPORTED_KUBERNETES_MINORS.length - 1]} release`));
  }
  const etcd = semver(c.versions.etcd);
  if (etcd && !(etcd[0] === 3 && (etcd[1] === 5 || etcd[1] === 6 || etcd[1] === 7))) {
    out.push(err("etcdVersion", `etcd ${c.versions.etcd} is not supported by this program`, "use etcd 3.6 (the line kubeadm 1.36 deploys), or 3.7 with Kubernetes 1.37"));
  } else if (etcd && etcd[1] === 7 && k8s && k8s[1] < 37) {
    // 3.7 drops the v2 store and the flags that served it; kubeadm deploys it from 1.37 on
    out.push(err("etcdVersion", `etcd ${c.versions.etcd} is the line kubeadm deploys from Kubernetes 1.37 on; this cluster runs Kubernetes ${c.versions.kubernetes}`, "keep etcd 3.6 with Kubernetes 1.36 (move Kubernetes to 1.37 first, then etcd to 3.7)"));
  }
  const ctrd = semver(c.versions.containerd);
  if (ctrd && ctrd[0] < 2) {
    out.push(err("containerdVersion", `containerd ${c.versions.containerd} is 1.x; Kubernetes ${c.versions.kubernetes} needs containerd 2.x for its CRI (and 1.x config files differ)`, "use containerd 2.x"));
  }
  const crictl = semver(c.versions.crictl);
  if (k8s && crictl && Math.abs(crictl[1] - k8s[1]) > 1) {
    out.push(warn("crictlVersion", `crictl ${c.versions.crictl} is more than one minor away from Kubernetes ${c.versions.kubernetes}`, `use crictl 1.${k8s[1]}.x`));
  }
  for (const name of Object.keys(VERSION_KEYS) as ArtifactName[]) {
    if (c.artifacts[name]) continue;
    const key = VERSION_KEYS[name];
    if (out.some((p) => p.key === key && p.severity === "error")) continue;
    const version = c.versions[COMPONENT_OF[name]];
    out.push(err(key, `no checksum is known for ${name} ${version} (linux/amd64)`, `add its published digest to artifactChecksums as 'FILE=sha256:HEX', or use a catalogued version`));
  }
  return out;
}

function hostRules(c: DraftConfig, env: PreflightEnv): Problem[] {
  const out: Problem[] = [];
  if (c.hypervisor.mode === "libvirt") {
    const img = c.hypervisor.baseImage;
    if (!img) {
      out.push(err("baseImagePath", "no base image is configured for the VMs", "set baseImagePath to a qcow2 cloud image on the hypervisor, or baseImageUrl with baseImageChecksum"));
    } else if ("path" in img) {
      if (env.baseImageHere && !env.fileExists(img.path)) {
        out.push(err("baseImagePath", `${img.path} does not exist on this machine, which uploads it into the pool`, "download a Debian 12 genericcloud image there and check it against Debian's SHA512SUMS (README, quick start), or set baseImageUrl with baseImageChecksum"));
      }
    } else if ("url" in img) {
      if (!isDigest(img.checksum)) out.push(err("baseImageChecksum", img.checksum ? `'${img.checksum}' is not sha256:HEX or sha512:HEX` : "is required with baseImageUrl", "set it to the published digest of the image, e.g. sha512:<128 hex digits>"));
      if (/\/latest\//.test(img.url)) out.push(err("baseImageUrl", "points at a 'latest' image, whose checksum changes", "use a dated release URL"));
    }
  }
  if (c.downloads.artifactDir) {
    const dir = path.resolve(c.downloads.artifactDir);
    for (const a of Object.values(c.artifacts)) {
      if (!a) continue;
      const file = path.join(dir, a.fileName);
      if (!env.fileExists(file)) {
        out.push(err("artifactDir", `air-gapped install: ${a.name} ${a.version} is missing; expected ${file}`, `copy ${a.fileName} (from ${a.url}) into ${dir}`));
      }
    }
  }
  const mirrored = Object.keys(c.registry.mirrors);
  if (mirrored.length) {
    const registries = new Set([...imagesInUse(c), c.registry.pauseImage].map(imageRegistry));
    for (const r of [...registries].filter((x) => !mirrored.includes(x)).sort()) {
      out.push(warn("registryMirrors", `no mirror for ${r}: images from it are pulled directly`, `add '${r}=<mirror URL>' to registryMirrors`));
    }
  }
  if (c.registry.archiveDir !== undefined) out.push(...archiveRules(c, env));
  if (c.downloads.artifactDir && c.downloads.mirror) {
    out.push(err("downloadMirror", "is set together with artifactDir", "use one source: artifactDir for air-gapped copies, or downloadMirror"));
  }
  return out;
}

/** Reads the image archives into the model; every image in use must be in one or mirrored. */
function archiveRules(c: DraftConfig, env: PreflightEnv): Problem[] {
  const dir = c.registry.archiveDir!;
  try {
    c.registry.archives = env.imageArchives(dir);
  } catch (e) {
    return [err("imageArchiveDir", `${dir} cannot be read as image archives: ${(e as Error).message}`, "point it at a directory of docker-archive .tar files (docker save, ctr images export)")];
  }
  if (!c.registry.archives.length) return [err("imageArchiveDir", `${dir} holds no .tar archive`, "put the images the cluster runs there as docker-archive .tar files, or unset imageArchiveDir")];
  // every node imports every archive (minutes each on emulated guests): not those that hold
  // only images of addons this cluster does not run (flannel's in a weave cluster)
  const unused = unusedAddonArchives(c, c.registry.archives);
  c.registry.archives = c.registry.archives.filter((a) => !unused.includes(a));
  const notes = unused.length
    ? [warn("imageArchiveDir", `${unused.map((a) => a.file).join(", ")} ${unused.length === 1 ? "holds" : "hold"} only images of addons this cluster does not run: not imported`, "nothing to do; enable the addon to import it")]
    : [];
  const have = new Set(c.registry.archives.flatMap((a) => a.images));
  const mirrored = new Set(Object.keys(c.registry.mirrors));
  const missing = [...new Set([c.registry.pauseImage, ...imagesInUse(c)])].filter((i) => !have.has(asStored(i)) && !mirrored.has(imageRegistry(i)));
  return missing.length
    ? [...notes, err("imageArchiveDir", `no archive in ${dir} holds ${missing.join(", ")}, and no registry mirror serves ${missing.length === 1 ? "it" : "them"}`, "add an archive of each (docker save IMAGE -o FILE.tar), a registryMirrors entry for its registry, or turn off the addon that needs it")]
    : notes;
}

/** An image reference as an archive names it: containerd's normal form, without a digest. */
const asStored = (ref: string) => normalizeImageRef(ref.replace(/@sha256:[0-9a-f]+$/, ""));
/** The same without its tag. */
const repository = (ref: string) => asStored(ref).replace(/:[^/:]+$/, "");

/** The archives whose every image is one of an addon this cluster does not run (by repository, any tag). */
export function unusedAddonArchives(c: DraftConfig, archives: ImageArchive[]): ImageArchive[] {
  const inUse = new Set(imagesInUse(c).map(repository));
  const addonOnly = new Set((Object.keys(c.images) as ImageName[]).filter((k) => k !== "pause").map((k) => repository(c.images[k])).filter((r) => !inUse.has(r)));
  return archives.filter((a) => a.images.length > 0 && a.images.every((i) => addonOnly.has(repository(i))));
}

/** The images the enabled addons run. */
export function imagesInUse(c: DraftConfig): string[] {
  const used: Record<ImageName, boolean> = {
    pause: true,
    coredns: c.addons.coredns,
    weaveKube: c.addons.cni === "weave",
    weaveNpc: c.addons.cni === "weave",
    flannel: c.addons.cni === "flannel",
    flannelCniPlugin: c.addons.cni === "flannel",
    dashboard: c.addons.dashboard,
    dashboardMetricsScraper: c.addons.dashboard,
    headlamp: c.addons.headlamp,
  };
  return (Object.keys(used) as ImageName[]).filter((k) => used[k]).map((k) => c.images[k]);
}

/** The registry host of an image reference (docker.io when the reference has none). */
export function imageRegistry(image: string): string {
  const first = image.split("/")[0];
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}

/** Runs every rule; problems in config order of keys. */
export function preflight(c: DraftConfig, env: PreflightEnv = realEnv): Problem[] {
  const net = networkRules(c);
  return [...net.problems, ...nodeRules(c, net.nodeCidr), ...roleRules(c), ...versionRules(c), ...hostRules(c, env), ...hypervisorRules(c), ...settingsRules(c)];
}

export interface LoadResult {
  config?: ClusterConfig;
  errors: Problem[];
  warnings: Problem[];
}

/** Raw key values → checked model. `config` is set only when there are no errors. */
export function loadConfig(values: Record<string, unknown>, env: PreflightEnv = realEnv): LoadResult {
  const parsed = parseRaw(values);
  let problems = parsed.problems;
  let draft: DraftConfig | undefined;
  if (parsed.raw) {
    const derived = deriveModel(parsed.raw);
    problems = [...problems, ...derived.problems];
    if (!derived.problems.some((p) => p.severity === "error")) {
      problems = [...problems, ...preflight(derived.config, env)];
    }
    draft = derived.config;
  }
  const errors = problems.filter((p) => p.severity === "error");
  const warnings = problems.filter((p) => p.severity === "warning");
  return { config: errors.length === 0 && draft ? completeModel(draft) : undefined, errors, warnings };
}

/** One line per problem: `error: KEY: MESSAGE; fix: FIX`. */
export function formatProblem(p: Problem): string {
  return `${p.severity}: ${p.key}: ${p.message}; fix: ${p.fix}`;
}

export function formatErrors(errors: Problem[]): string {
  return [`the stack configuration has ${errors.length} problem${errors.length === 1 ? "" : "s"}; nothing was created:`, ...errors.map(formatProblem)].join("\n");
}
