// Version catalogue: every release artifact the cluster installs, pinned with the
// checksum its upstream published for linux/amd64. A version that is not listed here
// has no known checksum, and preflight refuses it unless the stack config supplies one
// (key `artifactChecksums`). Owns: artifact names, URLs, file names and hashes.
// Depends on nothing.

/** A digest with its algorithm, as upstream publishes it (Kubernetes publishes sha512 for its tarballs). */
export type Digest = `sha256:${string}` | `sha512:${string}`;

/** The release artifacts the nodes need, by role in the cluster. */
export type ArtifactName =
  | "kubernetes-server"
  | "kubernetes-node"
  | "etcd"
  | "containerd"
  | "runc"
  | "crictl"
  | "cni-plugins";

export interface ArtifactSpec {
  /** Which component this is. */
  name: ArtifactName;
  /** Upstream version, without a leading `v`. */
  version: string;
  /** File name as published upstream; also the name expected in `artifactDir` and under a mirror. */
  fileName: string;
  /** Official download URL. */
  url: string;
  /** Path below a download mirror's base URL (docs/configuration.md: downloads). */
  mirrorPath: string;
  /** Checksum of the file. */
  digest: Digest;
  /** How the file is unpacked: a tarball, or a single executable. */
  format: "tar.gz" | "binary";
}

interface CatalogEntry {
  fileName: (v: string) => string;
  url: (v: string) => string;
  mirrorDir: string;
  format: "tar.gz" | "binary";
  /** Known versions and their published digests (linux/amd64). */
  digests: Record<string, Digest>;
}

/**
 * Sources of the digests below (all linux/amd64):
 * - kubernetes 1.36.0 and 1.35.4 (the previous minor's latest patch, so that a cluster on
 *   1.35 can move to 1.36 through `up`): the sha512 tables of CHANGELOG-1.36.md and
 *   CHANGELOG-1.35.md (server and node tarballs);
 * - etcd 3.6.14 and 3.6.5, crictl 1.36.0 and 1.35.0, CNI plugins 1.9.1 and 1.8.0, runc 1.3.3:
 *   kubespray's checksums.yml (roles/kubespray_defaults/vars/main, as of 2026-08-21);
 * - containerd 2.3.5, runc 1.5.1 (the pair containerd 2.3.5 is tested with: its
 *   script/setup/runc-version), crictl 1.37.0: the projects' published .sha256sum values as
 *   pinned by downstream install code (runc 1.5.1 by three, each checking against the
 *   published file; containerd 2.3.5 and crictl 1.37.0 by one each);
 * - containerd 2.2.0: the project's release checksum as recorded by downstream build files.
 * The older entries are the previous defaults of this program: the releases a lab made
 * by it runs, kept so that its next `up` can read where it comes from.
 * No Kubernetes 1.37 (or 1.36.1+) tarball checksum could be verified here (CHANGELOG-1.37.md
 * was not available past v1.37.0-alpha.1): a 1.37 stack names its files' digests in
 * artifactChecksums.
 */
export const CATALOG: Record<ArtifactName, CatalogEntry> = {
  "kubernetes-server": {
    fileName: () => "kubernetes-server-linux-amd64.tar.gz",
    url: (v) => `https://dl.k8s.io/v${v}/kubernetes-server-linux-amd64.tar.gz`,
    mirrorDir: "kubernetes",
    format: "tar.gz",
    digests: {
      "1.36.0":
        "sha512:1c64da92575451c2c7ff97c79b772e603995f8e76da1371a6b0746aaa27b65dce81c4d734cbb50f40e71486a8e08df36f14e12974f97d4d29e41f23a172a6a25",
      "1.35.4":
        "sha512:7454c2d9023de3230972e965e1e2a587a291e2a1abee703bb0737057e1646b23ebac538b93dd778e93579e3c293dc1fa8d002e6848ad5ebc01598bc47358fe44",
    },
  },
  "kubernetes-node": {
    fileName: () => "kubernetes-node-linux-amd64.tar.gz",
    url: (v) => `https://dl.k8s.io/v${v}/kubernetes-node-linux-amd64.tar.gz`,
    mirrorDir: "kubernetes",
    format: "tar.gz",
    digests: {
      "1.36.0":
        "sha512:8bba5bd0cb77997ad965739caff3c8839fd16f284cf28a0e46c44538ce0b6fd83c5f3c608dd86c4831c3de9306bbfd02ce26bbe9a426754b6253efa1d5cc030f",
      "1.35.4":
        "sha512:bfdde7cb0eb382d28b37a499d041a210a10afc86280b1d0eefeec179e8563b8848f744ad0302a239662e3b5219622cdc2925a69c9d8098d7cd6237c659d78932",
    },
  },
  etcd: {
    fileName: (v) => `etcd-v${v}-linux-amd64.tar.gz`,
    url: (v) => `https://github.com/etcd-io/etcd/releases/download/v${v}/etcd-v${v}-linux-amd64.tar.gz`,
    mirrorDir: "etcd",
    format: "tar.gz",
    digests: {
      "3.6.14": "sha256:ffe840ff9295808e88cce2794a18a5ac87f12a5203c8314d0bf6aa119b41bac5",
      "3.6.5": "sha256:66bad39ed920f6fc15fd74adcb8bfd38ba9a6412f8c7852d09eb11670e88cac3",
    },
  },
  containerd: {
    fileName: (v) => `containerd-${v}-linux-amd64.tar.gz`,
    url: (v) => `https://github.com/containerd/containerd/releases/download/v${v}/containerd-${v}-linux-amd64.tar.gz`,
    mirrorDir: "containerd",
    format: "tar.gz",
    digests: {
      "2.3.5": "sha256:2f0a095a71e3262d0d91ff0e50e2e4ae73c3866c4d1ff6a15f341097fba3dd44",
      "2.2.0": "sha256:b9626a94ab93b00bcbcbf13d98deef972c6fb064690e57940632df54ad39ee71",
    },
  },
  runc: {
    fileName: () => "runc.amd64",
    url: (v) => `https://github.com/opencontainers/runc/releases/download/v${v}/runc.amd64`,
    mirrorDir: "runc",
    format: "binary",
    digests: {
      "1.5.1": "sha256:177df879d50c913eb205e898d5c1c05a18f574053c0ce5524c471208eaf06f6f",
      "1.3.3": "sha256:8781ab9f71c12f314d21c8e85f13ca1a82d90cf475aa5131a7b543fcc5487543",
    },
  },
  crictl: {
    fileName: (v) => `crictl-v${v}-linux-amd64.tar.gz`,
    url: (v) => `https://github.com/kubernetes-sigs/cri-tools/releases/download/v${v}/crictl-v${v}-linux-amd64.tar.gz`,
    mirrorDir: "crictl",
    format: "tar.gz",
    digests: {
      "1.37.0": "sha256:67c983ee8a6bbce73d39a186e633c5fe4f8a70e62171ac3bd92a9c1b2c601670",
      "1.36.0": "sha256:83855e114566a8a8c44c548d515670f51de3a5e1da8b2effb59870e2f10c25a3",
      "1.35.0": "sha256:2e141e5b22cb189c40365a11807d69b76b9b3caced89fac2f4ec879408ce2177",
    },
  },
  "cni-plugins": {
    fileName: (v) => `cni-plugins-linux-amd64-v${v}.tgz`,
    url: (v) => `https://github.com/containernetworking/plugins/releases/download/v${v}/cni-plugins-linux-amd64-v${v}.tgz`,
    mirrorDir: "cni-plugins",
    format: "tar.gz",
    digests: {
      "1.9.1": "sha256:b98f74a0f8522f0a83867178729c1aa70f2158f90c45a2ca8fa791db1c76b303",
      "1.8.0": "sha256:ab3bda535f9d90766cccc90d3dddb5482003dd744d7f22bcf98186bf8eea8be6",
    },
  },
};

/** Each component of the cluster: the config key of its version, and the release files that version selects. */
export const COMPONENTS = {
  kubernetes: { key: "kubernetesVersion", artifacts: ["kubernetes-server", "kubernetes-node"] },
  etcd: { key: "etcdVersion", artifacts: ["etcd"] },
  containerd: { key: "containerdVersion", artifacts: ["containerd"] },
  runc: { key: "runcVersion", artifacts: ["runc"] },
  crictl: { key: "crictlVersion", artifacts: ["crictl"] },
  cniPlugins: { key: "cniPluginsVersion", artifacts: ["cni-plugins"] },
} as const satisfies Record<string, { key: string; artifacts: readonly ArtifactName[] }>;
export type ComponentName = keyof typeof COMPONENTS;

/** The component each release file belongs to. */
export const COMPONENT_OF = Object.fromEntries(
  Object.entries(COMPONENTS).flatMap(([name, c]) => c.artifacts.map((a) => [a, name])),
) as Record<ArtifactName, ComponentName>;

/** The config key that selects each artifact's version. */
export const VERSION_KEYS = Object.fromEntries(Object.entries(COMPONENT_OF).map(([a, name]) => [a, COMPONENTS[name].key])) as Record<ArtifactName, string>;

/**
 * Container images the addons and the kubelet pull: pinned by tag, and by digest where a
 * published digest could be checked (key `imageOverrides` replaces any of them).
 */
export const DEFAULT_IMAGES = {
  /** The sandbox ("pause") image kubeadm 1.36.0 deploys (its constants.PauseVersion; test/upstream.test.ts). */
  pause: "registry.k8s.io/pause:3.10.2",
  /** CoreDNS as kubeadm 1.36.0 deploys it (its constants.CoreDNSVersion; test/upstream.test.ts). */
  coredns: "registry.k8s.io/coredns/coredns:v1.14.2",
  /**
   * weave-net's maintained community fork (github.com/rajch/weave; the vendor archived
   * weaveworks/weave), its newest release: 2.9.0 uses the nftables backend of iptables by
   * default where 2.8.x guessed by counting rules; the DaemonSet also sets it explicitly.
   */
  weaveKube: "docker.io/rajchaudhuri/weave-kube:2.9.0",
  weaveNpc: "docker.io/rajchaudhuri/weave-npc:2.9.0",
  flannel: "ghcr.io/flannel-io/flannel:v0.27.4@sha256:2ff3c5cb44d0e27b09f27816372084c98fa12486518ca95cb4a970f4a1a464c4",
  flannelCniPlugin: "ghcr.io/flannel-io/flannel-cni-plugin:v1.8.0-flannel1",
  dashboard: "docker.io/kubernetesui/dashboard:v2.7.0",
  headlamp: "ghcr.io/headlamp-k8s/headlamp:v0.39.0",
  dashboardMetricsScraper: "docker.io/kubernetesui/metrics-scraper:v1.0.8",
};
export type ImageName = keyof typeof DEFAULT_IMAGES;

/**
 * The iptables backend weave-net writes with, set on every weave container: the nodes' own
 * (Debian 12 and RHEL 9 iptables use nf_tables; node prep checks it), so weave's rules sit
 * beside kube-proxy's instead of in legacy tables nothing else reads.
 */
export const WEAVE_IPTABLES_BACKEND: "nft" | "legacy" = "nft";

/** A digest that is syntactically valid for its algorithm. */
export function isDigest(s: string): s is Digest {
  return /^sha256:[0-9a-f]{64}$/.test(s) || /^sha512:[0-9a-f]{128}$/.test(s);
}

/**
 * Resolves an artifact for a version: the catalogue's digest, or one given in config.
 * Returns undefined when no digest is known (preflight reports it).
 */
export function resolveArtifact(
  name: ArtifactName,
  version: string,
  extraDigests: Record<string, string> = {},
): ArtifactSpec | undefined {
  const entry = CATALOG[name];
  const fileName = entry.fileName(version);
  const override = extraDigests[fileName];
  const digest = override !== undefined && isDigest(override) ? override : entry.digests[version];
  if (!digest) return undefined;
  return {
    name,
    version,
    fileName,
    url: entry.url(version),
    mirrorPath: `${entry.mirrorDir}/v${version}/${fileName}`,
    digest,
    format: entry.format,
  };
}
