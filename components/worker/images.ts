// Registry-less images (imageArchiveDir): every worker receives the archives (each checked
// against the digest taken on the Pulumi machine), imports them into containerd's k8s.io
// namespace unless every image in them is already there, and pins the sandbox image so
// garbage collection never removes it. The seed's "pause image cannot be pulled", solved
// offline. Depends on: config, host (uploads, verify), worker/plan (paths).
import { ClusterConfig, NodeSpec, normalizeImageRef } from "../config";
import { BIN_DIR, CACHE_DIR, UPLOAD_DIR, VERIFY, takeUploads } from "../node-prep/artifacts";
import { HostStepPlan, shq } from "../host/plan";

export const IMAGE_CACHE_DIR = `${CACHE_DIR}/images`;
const CTR = `${BIN_DIR}/ctr -n k8s.io`;

export function planImages(c: ClusterConfig, node: NodeSpec): HostStepPlan {
  const archives = c.registry.archives;
  const pause = normalizeImageRef(c.registry.pauseImage);
  const all = archives.flatMap((a) => a.images);
  return {
    node: node.name,
    ip: node.ip,
    layer: "images",
    description: `import ${all.length} images from ${archives.length} archives into containerd (no registry)`,
    files: [],
    upload: { sourceDir: c.registry.archiveDir!, targetDir: UPLOAD_DIR, files: archives.map((a) => ({ name: a.file, digest: a.digest })) },
    activate: [
      ...VERIFY,
      ...takeUploads(IMAGE_CACHE_DIR, archives.map((a) => ({ name: a.file, digest: a.digest })), "the image archive directory"),
      `present=$(${CTR} images ls -q)`,
      'has() { grep -qxF -- "$1" <<<"$present"; }',
      ...archives.map((a) => `if ! ${a.images.map((i) => `has ${shq(i)}`).join(" || ! ")}; then ${CTR} images import --digests ${shq(`${IMAGE_CACHE_DIR}/${a.file}`)} >/dev/null; fi`),
      ...(all.includes(pause) ? [`${CTR} images label ${shq(pause)} io.cri-containerd.pinned=pinned >/dev/null`] : []),
    ],
    deactivate: [`if [[ -x ${BIN_DIR}/ctr ]]; then ${CTR} images rm ${all.map(shq).join(" ")} >/dev/null 2>&1 || true; fi`],
    createdPaths: [IMAGE_CACHE_DIR],
    healthGate: `ctr -n k8s.io images ls lists ${all.join(", ")}`,
  };
}
