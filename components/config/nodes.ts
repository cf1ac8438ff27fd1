// The `nodes` entries: 'name=k8s-1 ip=… roles=etcd,control-plane,worker' plus optional
// per-node sizes, MAC and hypervisor (host=), parsed into NodeSpecs (shape only; the rules run in preflight).
// Pure. Depends on: model.
import { NodeSpec, Problem, ROLES, Role } from "./model";

const NODE_FIELDS = ["name", "ip", "roles", "vcpu", "memoryMiB", "diskGiB", "mac", "host"] as const;

/** A MAC in the QEMU/KVM locally administered range 52:54:00, derived from the node IP. */
export function macForIp(ip: string): string {
  const [, b, c, d] = ip.split(".").map((x) => Number(x));
  return ["52", "54", "00", b, c, d].map((x) => (typeof x === "number" ? x.toString(16).padStart(2, "0") : x)).join(":");
}

/** 'HOST' or 'HOST:PORT' (port defaults to the apiserver's); the host is checked in preflight. */
export function splitHostPort(s: string, defaultPort: number): { host: string; port: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(s.trim())!;
  return { host: m[1].toLowerCase(), port: m[2] === undefined ? defaultPort : Number(m[2]) };
}

/** Parses one `nodes` entry ('name=k8s-1 ip=... roles=a,b'). Shape only; rules run later. */
export function parseNodeSpec(
  text: string,
  index: number,
  defaults: { vcpu: number; memoryMiB: number; diskGiB: number },
): { node?: NodeSpec; problems: Problem[] } {
  const key = `nodes[${index}]`;
  const problems: Problem[] = [];
  const fields: Record<string, string> = {};
  for (const part of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = part.indexOf("=");
    const field = eq > 0 ? part.slice(0, eq) : "";
    if (!(NODE_FIELDS as readonly string[]).includes(field)) {
      problems.push({
        severity: "error",
        key,
        message: `'${part}' is not a node field`,
        fix: `write fields as FIELD=VALUE with FIELD one of ${NODE_FIELDS.join(", ")}, e.g. 'name=k8s-1 ip=192.168.253.140 roles=etcd,control-plane,worker'`,
      });
      continue;
    }
    if (field in fields) {
      problems.push({ severity: "error", key, message: `${field}= is given twice ('${field}=${fields[field]}' and '${part}'); the entry would mean only one of them`, fix: `keep one ${field}= in the entry '${text}'` });
      continue;
    }
    fields[field] = part.slice(eq + 1);
  }
  for (const required of ["name", "ip", "roles"]) {
    if (!fields[required]) {
      problems.push({ severity: "error", key, message: `has no ${required}=`, fix: `add ${required}=... to the entry '${text}'` });
    }
  }
  const roles = new Set<Role>();
  for (const r of (fields.roles ?? "").split(",").filter(Boolean)) {
    if ((ROLES as readonly string[]).includes(r)) roles.add(r as Role);
    else problems.push({ severity: "error", key, message: `role '${r}' is unknown`, fix: `use roles from: ${ROLES.join(", ")}` });
  }
  const num = (f: "vcpu" | "memoryMiB" | "diskGiB", dflt: number): number => {
    const v = fields[f];
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < 1) {
      problems.push({ severity: "error", key, message: `${f}=${v} is not a positive whole number`, fix: `write ${f}=N, e.g. ${f}=${dflt}` });
      return dflt;
    }
    return Number(v);
  };
  const vcpu = num("vcpu", defaults.vcpu);
  const memoryMiB = num("memoryMiB", defaults.memoryMiB);
  const diskGiB = num("diskGiB", defaults.diskGiB);
  if (fields.mac !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(fields.mac)) {
    problems.push({ severity: "error", key, message: `mac=${fields.mac} is not a lowercase MAC address`, fix: "write mac=52:54:00:xx:xx:xx, or leave it out to derive one from the IP" });
  } else if (fields.mac !== undefined && parseInt(fields.mac.slice(0, 2), 16) & 1) {
    problems.push({ severity: "error", key, message: `mac=${fields.mac} is a multicast address (the first octet is odd); a NIC cannot have it`, fix: "write a unicast MAC such as mac=52:54:00:xx:xx:xx, or leave it out to derive one from the IP" });
  }
  if (problems.length > 0 || !fields.name || !fields.ip) return { problems };
  const ipOk = /^\d+\.\d+\.\d+\.\d+$/.test(fields.ip);
  return {
    node: {
      name: fields.name,
      ip: fields.ip,
      roles,
      vcpu,
      memoryMiB,
      diskGiB,
      mac: fields.mac ?? (ipOk ? macForIp(fields.ip) : "52:54:00:00:00:00"),
      index,
      ...(fields.host !== undefined ? { host: fields.host } : {}),
    },
    problems,
  };
}
