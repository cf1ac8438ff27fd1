// Container image archives for registry-less clusters (key imageArchiveDir): each *.tar in
// the directory is a docker-archive (`docker save`, `ctr images export`) whose
// manifest.json names the images it holds. Read once at config time: its digest (checked
// again on every node before import) and its image names (preflight matches them against
// the images the cluster runs). Owns: reading the archives. Depends on: tar.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as tar from "tar";

export interface ImageArchive {
  /** File name in the directory (and on the nodes). */
  file: string;
  /** Absolute path on the machine running Pulumi. */
  path: string;
  /** sha256 of the file. */
  digest: `sha256:${string}`;
  /** Image references inside (manifest.json RepoTags), normalized like containerd names them. */
  images: string[];
}

/** docker.io short names as containerd stores them: `busybox:1` → `docker.io/library/busybox:1`. */
export function normalizeImageRef(ref: string): string {
  const first = ref.split("/")[0];
  const hasRegistry = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return ref;
  return ref.includes("/") ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

/** The image names a docker-archive holds; throws with the file's name when it is not one. */
export function imagesInArchive(file: string): string[] {
  let manifest = "";
  tar.t({
    file,
    sync: true,
    filter: (p) => p === "manifest.json" || p === "./manifest.json",
    onReadEntry: (entry) => {
      entry.on("data", (d: Buffer) => (manifest += d.toString("utf8")));
    },
  });
  if (!manifest) throw new Error(`${path.basename(file)} has no manifest.json: not a docker-archive (docker save, ctr images export)`);
  const entries = JSON.parse(manifest) as Array<{ RepoTags?: string[] | null }>;
  const tags = entries.flatMap((e) => e.RepoTags ?? []);
  if (!tags.length) throw new Error(`${path.basename(file)} names no image (RepoTags is empty): export it with its name`);
  return tags.map(normalizeImageRef);
}

function sha256File(file: string): string {
  const h = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

/** Every archive in the directory, by name. Throws with a message naming what is wrong. */
export function readImageArchives(dir: string): ImageArchive[] {
  const abs = path.resolve(dir);
  const files = fs.readdirSync(abs).filter((f) => f.endsWith(".tar")).sort();
  return files.map((file) => {
    const p = path.join(abs, file);
    return { file, path: p, digest: `sha256:${sha256File(p)}`, images: imagesInArchive(p) };
  });
}
