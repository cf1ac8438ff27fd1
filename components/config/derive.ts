// Derivation: from schema-checked raw values to the ClusterConfig — nodes parsed, service
// IPs from the service range, artifacts resolved with their digests, mirrors, image
// overrides and the computed NO_PROXY list. Pure. Depends on: keys (RawConfig), model,
// nodes, network, versions.
import type { RawConfig } from "./keys";
import { ClusterConfig, DraftConfig, NodeSpec, Problem, nodesWith } from "./model";
import { parseNodeSpec, splitHostPort } from "./nodes";
import { ArtifactName, ArtifactSpec, CATALOG, COMPONENTS, COMPONENT_OF, ComponentName, DEFAULT_IMAGES, ImageName, resolveArtifact } from "./versions";
import { Cidr, nthAddress, parseCidr } from "./network";
import { parseHypervisors } from "./hypervisors";

function parseAssignments(list: string[], key: string, what: string, example: string, problems: Problem[]): Record<string, string> {
  const out: Record<string, string> = {};
  list.forEach((item, i) => {
    const eq = item.indexOf("=");
    if (eq <= 0 || eq === item.length - 1) {
      problems.push({ severity: "error", key: `${key}[${i}]`, message: `'${item}' is not ${what}`, fix: `write it as ${example}` });
      return;
    }
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  });
  return out;
}

/** NO_PROXY entries the cluster needs so that no in-cluster traffic goes to the proxy. */
export function computedNoProxy(c: Pick<DraftConfig, "nodes" | "network" | "domain">): string[] {
  return [
    "localhost",
    "127.0.0.1",
    "::1",
    c.network.nodeCidr,
    c.network.podCidr,
    c.network.serviceCidr,
    ...c.nodes.map((n) => n.name),
    ...c.nodes.map((n) => n.ip),
    ".svc",
    `.${c.domain}`,
  ];
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/**
 * Builds the model from schema-checked raw values. Network values that do not parse are
 * carried as given; preflight reports them. Never throws.
 */
export function deriveModel(raw: RawConfig): { config: DraftConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const nodes: NodeSpec[] = [];
  raw.nodes.forEach((text, i) => {
    const r = parseNodeSpec(text, i, { vcpu: raw.nodeVcpu, memoryMiB: raw.nodeMemoryMiB, diskGiB: raw.nodeDiskGiB });
    problems.push(...r.problems);
    if (r.node) nodes.push(r.node);
  });

  const hosts = parseHypervisors(raw.hypervisors, raw.libvirtUri);
  problems.push(...hosts.problems);

  const serviceCidr: Cidr | undefined = parseCidr(raw.serviceCidr);
  const nodeCidr: Cidr | undefined = parseCidr(raw.nodeCidr);
  const firstService = serviceCidr && serviceCidr.size > 2 ? nthAddress(serviceCidr, 1) : "";
  const tenthService = serviceCidr && serviceCidr.size > 11 ? nthAddress(serviceCidr, 10) : "";

  const extraDigests = parseAssignments(raw.artifactChecksums, "artifactChecksums", "FILE=DIGEST", "'etcd-v3.6.6-linux-amd64.tar.gz=sha256:<64 hex digits>'", problems);
  const versions = Object.fromEntries(Object.entries(COMPONENTS).map(([name, { key }]) => [name, raw[key]])) as Record<ComponentName, string>;
  const artifacts: Partial<Record<ArtifactName, ArtifactSpec>> = {};
  for (const name of Object.keys(CATALOG) as ArtifactName[]) {
    const a = resolveArtifact(name, versions[COMPONENT_OF[name]], extraDigests);
    if (a) artifacts[name] = a;
  }

  const registryMirrors = parseAssignments(raw.registryMirrors, "registryMirrors", "REGISTRY=URL", "'registry.k8s.io=https://mirror.lab:5000'", problems);
  const overrides = parseAssignments(raw.imageOverrides, "imageOverrides", "NAME=IMAGE", "'coredns=registry.lab/coredns/coredns:v1.14.2'", problems);
  const images: Record<ImageName, string> = { ...DEFAULT_IMAGES };
  for (const [name, image] of Object.entries(overrides)) {
    if (name in images) images[name as ImageName] = image;
    else problems.push({ severity: "error", key: "imageOverrides", message: `'${name}' is not an image name`, fix: `use one of ${Object.keys(DEFAULT_IMAGES).join(", ")}` });
  }

  const config: DraftConfig = {
    name: raw.clusterName,
    domain: raw.clusterDomain,
    versions,
    artifacts,
    nodes,
    controlPlaneTaint: raw.controlPlaneTaint,
    kubelet: { maxPods: raw.kubeletMaxPods },
    network: {
      nodeCidr: nodeCidr?.text ?? raw.nodeCidr,
      podCidr: parseCidr(raw.podCidr)?.text ?? raw.podCidr,
      serviceCidr: serviceCidr?.text ?? raw.serviceCidr,
      gateway: nodeCidr && nodeCidr.size > 2 ? nthAddress(nodeCidr, 1) : "",
      kubernetesServiceIp: raw.kubernetesServiceIp ?? firstService,
      clusterDnsIp: raw.clusterDnsIp ?? tenthService,
      apiserverPort: raw.apiserverPort,
      localProxyPort: raw.localProxyPort,
      localProxy: raw.localProxy,
      kubeProxyMode: raw.kubeProxyMode,
      extraApiserverSans: raw.extraApiserverSans,
      apiserverEndpoint: raw.apiserverEndpoint === undefined ? undefined : splitHostPort(raw.apiserverEndpoint, raw.apiserverPort),
    },
    ssh: { user: raw.sshUser, publicKey: raw.sshPublicKey, privateKeyGiven: raw.sshPrivateKey === true },
    hypervisor: {
      mode: raw.hostMode,
      uri: hosts.hypervisors[0]?.uri ?? raw.libvirtUri,
      domainType: raw.domainType,
      pool: raw.storagePool,
      poolPath: raw.storagePoolPath,
      baseImage: raw.baseImagePath
        ? { path: raw.baseImagePath }
        : raw.baseImageUrl
          ? { url: raw.baseImageUrl, checksum: raw.baseImageChecksum ?? "" }
          : undefined,
      skipPackageInstall: raw.skipPackageInstall,
      imageFamily: raw.baseImageFamily,
    },
    hypervisors: hosts.hypervisors,
    downloads: { mirror: raw.downloadMirror?.replace(/\/+$/, ""), artifactDir: raw.artifactDir },
    registry: { mirrors: registryMirrors, pauseImage: raw.pauseImage, archiveDir: raw.imageArchiveDir, archives: [] },
    images,
    addons: {
      cni: raw.cni,
      coredns: raw.coredns,
      dashboard: raw.dashboard,
      headlamp: raw.headlamp,
      dashboardLoginRole: raw.dashboardLoginRole,
    },
    pki: {
      algorithm: raw.pkiKeyAlgorithm,
      rsaBits: raw.pkiRsaBits,
      caValidityHours: raw.caValidityHours,
      certValidityHours: raw.certValidityHours,
      earlyRenewalHours: raw.certEarlyRenewalHours,
      separateEtcdCa: raw.separateEtcdCa,
      rotation: raw.pkiRotation,
    },
    etcdSnapshots: raw.etcdSnapshotSchedule === "off" ? undefined : { schedule: raw.etcdSnapshotSchedule, retention: raw.etcdSnapshotRetention },
    etcdRejoin: raw.etcdRejoin,
    rebuildNodes: raw.rebuildNodes,
    lostMachines: raw.lostMachines,
    wipeDataOnDestroy: raw.wipeDataOnDestroy,
    upTo: raw.upTo,
  };
  const http = raw.httpProxy;
  const https = raw.httpsProxy ?? raw.httpProxy;
  if (http || https) {
    config.proxy = { http, https, noProxy: uniq([...computedNoProxy(config), ...raw.noProxy]) };
  }
  return { config, problems };
}

/**
 * The checked model: the draft with its networks parsed and its admin node chosen, once.
 * Only for a draft preflight found no error in; throws otherwise (a programming error).
 */
export function completeModel(draft: DraftConfig): ClusterConfig {
  const parse = (key: string, text: string): Cidr => {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`config: ${key} ${text} did not parse after preflight`);
    return cidr;
  };
  const adminNode = nodesWith(draft, "control-plane")[0];
  if (!adminNode) throw new Error("config: no control-plane node after preflight");
  const cidrs = { node: parse("nodeCidr", draft.network.nodeCidr), pod: parse("podCidr", draft.network.podCidr), service: parse("serviceCidr", draft.network.serviceCidr) };
  return { ...draft, network: { ...draft.network, cidrs }, adminNode };
}
