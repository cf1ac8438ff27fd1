// Fixed shell helpers live as .sh files beside the layer that embeds them (components/<layer>/
// sh/*.sh), so shellcheck reads each one as a file and a reader sees plain bash; a plan
// embeds one with its @NAME@ placeholders filled in. Pure (reads the file once). Depends on nothing.
import * as fs from "fs";
import * as path from "path";

const cache = new Map<string, string>();

/**
 * The lines of `dir/sh/name`, without its first line (`# shellcheck shell=bash`, which
 * only tells shellcheck the shell), every `@NAME@` replaced by `values[NAME]`. Throws when
 * a placeholder has no value or a value no placeholder.
 */
export function shellAsset(dir: string, name: string, values: Record<string, string> = {}): string[] {
  const file = path.join(dir, "sh", name);
  let text = cache.get(file);
  if (text === undefined) {
    text = fs.readFileSync(file, "utf8");
    cache.set(file, text);
  }
  const [first, ...lines] = text.replace(/\n$/, "").split("\n");
  if (first !== "# shellcheck shell=bash") throw new Error(`${file}: the first line must be '# shellcheck shell=bash'`);
  const unused = new Set(Object.keys(values));
  const out = lines.map((l) =>
    l.replace(/@([A-Z_]+)@/g, (_, k: string) => {
      if (!(k in values)) throw new Error(`${file}: no value for @${k}@`);
      unused.delete(k);
      return values[k];
    }),
  );
  if (unused.size) throw new Error(`${file}: no placeholder for ${[...unused].join(", ")}`);
  return out;
}
