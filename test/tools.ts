// Real tools from Debian run over what the program renders.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input?: string): ToolResult {
  const r = spawnSync(cmd, args, { input, encoding: "utf8" });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs a bash script whose stand-ins log each call they take to `dir`/calls.log, then
 * removes `dir`: the exit status, the calls in order, and what the script wrote to stderr.
 */
export function runWithStandIns(script: string, dir: string): { status: number | null; calls: string[]; stderr: string } {
  const r = run("bash", ["-c", script]);
  const log = path.join(dir, "calls.log");
  const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status, calls, stderr: r.stderr };
}

export function tmpdir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * systemd-analyze verify on units (names relative to /etc/systemd/system, drop-ins too) placed in a scratch root that has the distro's units and
 * an executable stub for every binary the units start. Returns its output (empty = clean).
 */
export function systemdVerify(units: Record<string, string>, binaries: string[]): ToolResult {
  const root = tmpdir("sysroot-");
  try {
    fs.mkdirSync(path.join(root, "etc/systemd/system"), { recursive: true });
    fs.mkdirSync(path.join(root, "usr/lib/systemd"), { recursive: true });
    fs.cpSync("/usr/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
    for (const b of binaries) {
      fs.mkdirSync(path.join(root, path.dirname(b)), { recursive: true });
      fs.writeFileSync(path.join(root, b), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    }
    for (const [name, text] of Object.entries(units)) {
      const f = path.join(root, "etc/systemd/system", name);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, text);
    }
    // drop-ins (NAME.service.d/x.conf) are read with their unit
    return run("systemd-analyze", ["verify", "--man=no", `--root=${root}`, ...Object.keys(units).filter((u) => !u.includes("/"))]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export function shellcheck(script: string): ToolResult {
  return run("shellcheck", ["--shell=bash", "--severity=style", "-"], script);
}

export function bashSyntax(script: string): ToolResult {
  return run("bash", ["-n"], script);
}

/** The files a rendered apply script writes: path → content (decoded from its heredocs). */
export function filesInScript(script: string): Record<string, { content: string; mode: string; owner: string }> {
  const out: Record<string, { content: string; mode: string; owner: string }> = {};
  const re = /^put (\S+) (\d{4}) (\S+) <<'([A-Z0-9_]+)'\n([\s\S]*?)\n\4$/gm;
  for (const m of script.matchAll(re)) {
    const p = m[1].replace(/^'(.*)'$/, "$1");
    out[p] = { content: Buffer.from(m[5].replace(/\n/g, ""), "base64").toString("utf8"), mode: m[2], owner: m[3] };
  }
  return out;
}

/** True when the text, or any base64 block in it, holds a private key. */
export function containsPrivateKey(text: string): boolean {
  if (/PRIVATE KEY/.test(text)) return true;
  for (const m of text.matchAll(/(?:[A-Za-z0-9+/]{60,}\n?)+={0,2}/g)) {
    if (/PRIVATE KEY/.test(Buffer.from(m[0].replace(/\n/g, ""), "base64").toString("latin1"))) return true;
  }
  return false;
}

/** The words of a systemd unit's ExecStart (continuation lines joined): the binary, then its arguments. */
export function execStartWords(unit: string): string[] | undefined {
  const exec = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(unit);
  return exec?.[1].replace(/\\\n/g, " ").trim().split(/\s+/);
}
