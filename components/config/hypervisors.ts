// The libvirt hosts the lab's machines run on: the `hypervisors` entries ('name=hv1
// uri=qemu:///system address=10.0.0.1') parsed, each node's host, and the rules a multi-host
// config must pass (a node on an unknown host, a host the tunnel cannot reach or run on).
// One host (no entries): `libvirtUri`, named "default", exactly as before the key.
// Pure. Depends on: model, network.
import { DraftConfig, HypervisorSpec, NodeSpec, Problem, errorAt as err, warningAt } from "./model";
import { isIPv4 } from "./network";

const FIELDS = ["name", "uri", "address"] as const;
const LABEL = /^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/;
export const DEFAULT_HYPERVISOR = "default";
export const DEFAULT_LIBVIRT_URI = "qemu:///system";

/** Whether the URI is this machine's system libvirt (the one host that needs no SSH). */
function isLocalSystem(uri: string): boolean {
  return /^qemu:\/\/\/system(\?.*)?$/.test(uri);
}

/** The `hypervisors` entries (shape only; the rules run in hypervisorRules). Empty: one host at `uri`. */
export function parseHypervisors(entries: string[], uri: string): { hypervisors: HypervisorSpec[]; problems: Problem[] } {
  if (entries.length === 0) return { hypervisors: [{ name: DEFAULT_HYPERVISOR, uri, index: -1 }], problems: [] };
  const problems: Problem[] = [];
  if (uri !== DEFAULT_LIBVIRT_URI) problems.push(err("libvirtUri", "is set together with hypervisors, whose entries carry each host's URI", "remove libvirtUri (pulumi config rm libvirtUri) and give the URI in the first hypervisors entry"));
  const hypervisors: HypervisorSpec[] = [];
  entries.forEach((text, index) => {
    const key = `hypervisors[${index}]`;
    const fields: Record<string, string> = {};
    for (const part of text.trim().split(/\s+/).filter(Boolean)) {
      const eq = part.indexOf("=");
      const field = eq > 0 ? part.slice(0, eq) : "";
      if (!(FIELDS as readonly string[]).includes(field)) {
        problems.push(err(key, `'${part}' is not a hypervisor field`, `write 'name=NAME uri=URI address=IP' (fields: ${FIELDS.join(", ")}), e.g. 'name=hv2 uri=qemu+ssh://root@10.0.0.2/system address=10.0.0.2'`));
      } else if (field in fields) {
        problems.push(err(key, `${field}= is given twice`, `keep one ${field}= in '${text}'`));
      } else fields[field] = part.slice(eq + 1);
    }
    for (const required of ["name", "uri"]) if (!fields[required]) problems.push(err(key, `has no ${required}=`, `add ${required}=… to '${text}'`));
    if (fields.name && fields.uri) hypervisors.push({ name: fields.name, uri: fields.uri, address: fields.address, index });
  });
  return { hypervisors, problems };
}

/** The host a node's machine runs on (its host=, or the first hypervisor). */
export function hypervisorOf(c: Pick<DraftConfig, "hypervisors">, node: Pick<NodeSpec, "host">): HypervisorSpec {
  return c.hypervisors.find((h) => h.name === node.host) ?? c.hypervisors[0];
}

/**
 * Whether the guests' CPUs are emulated (domainType qemu: TCG, no KVM): several times slower,
 * so the cluster's timers that assume real CPUs (etcd's raft, leader leases, readiness
 * waits) get more time on them.
 */
export function emulatedGuests(c: Pick<DraftConfig, "hypervisor">): boolean {
  return c.hypervisor.domainType === "qemu";
}

/** The node network's MTU on a bridge that a VXLAN tunnel (50 bytes of headers) joins to the other hosts' over a 1500-byte wire. */
export const TUNNEL_MTU = 1450;

/** The node network's MTU where it is not the default 1500: several hosts (the tunnel's). */
export function nodeNetworkMtu(c: Pick<DraftConfig, "hypervisors">): number | undefined {
  return multiHost(c) ? TUNNEL_MTU : undefined;
}

/** Whether the node network spans several hosts (a tunnel joins their bridges). */
export function multiHost(c: Pick<DraftConfig, "hypervisors">): boolean {
  return c.hypervisors.length > 1;
}

/**
 * How the machine running Pulumi gets a root shell on a host, for the tunnel: the local
 * machine for qemu:///system, SSH as the URI says for qemu+ssh:// (user, port, keyfile,
 * no_verify); undefined for any other transport (it has no shell).
 */
export function hostShell(uri: string): { ssh?: string[] } | undefined {
  if (isLocalSystem(uri)) return {};
  const m = /^qemu\+ssh:\/\/(?:([^@/]+)@)?([^:/?]+)(?::(\d+))?\/system(?:\?(.*))?$/.exec(uri);
  if (!m) return undefined;
  const params = new URLSearchParams(m[4] ?? "");
  const args = ["-o", "BatchMode=yes"];
  if (m[3]) args.push("-p", m[3]);
  const keyfile = params.get("keyfile");
  if (keyfile) args.push("-i", keyfile);
  if (params.get("no_verify") === "1") args.push("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR");
  args.push(m[1] ? `${m[1]}@${m[2]}` : m[2]);
  return { ssh: args };
}

/** The rules of the hosts and of each node's host= (libvirt mode; existing machines have no host). */
export function hypervisorRules(c: DraftConfig): Problem[] {
  const out: Problem[] = [];
  const hypervisorsGiven = c.hypervisors.some((h) => h.index >= 0);
  if (c.hypervisor.mode === "existing") {
    if (hypervisorsGiven) out.push(err("hypervisors", "is set, but the nodes are existing machines (hostMode: existing): the program makes no VM on any host", "remove hypervisors, or set hostMode: libvirt"));
    for (const n of c.nodes) if (n.host !== undefined) out.push(err(`nodes[${n.index}]`, `host=${n.host} names a hypervisor, but the nodes are existing machines (hostMode: existing)`, "remove host= from the entry"));
    return out;
  }
  const names = new Map<string, number>();
  const uris = new Map<string, number>();
  const addresses = new Map<string, number>();
  const several = multiHost(c);
  for (const h of c.hypervisors) {
    const key = h.index < 0 ? "libvirtUri" : `hypervisors[${h.index}]`;
    if (h.index >= 0 && !LABEL.test(h.name)) out.push(err(key, `name=${h.name} is not a short DNS label (lowercase letters, digits and '-', at most 15: it is part of resource names)`, "name the host e.g. name=hv2"));
    for (const [map, value, what] of [[names, h.name, "name"], [uris, h.uri, "uri"], [addresses, h.address, "address"]] as const) {
      if (value === undefined) continue;
      if (map.has(value)) out.push(err(key, `${what}=${value} is already given by hypervisors[${map.get(value)}]`, `give every host its own ${what}`));
      else map.set(value, h.index);
    }
    if (c.hypervisor.domainType === "kvm" && /\/session(\?|$)/.test(h.uri)) out.push(warningAt(key, `${h.uri}: a session connection cannot create NAT networks`, "use qemu:///system (or qemu+ssh://…/system)"));
    if (!several) continue;
    if (h.address === undefined) out.push(err(key, "has no address=: the hosts' node networks are joined by a tunnel between their addresses", `add address=IP (where the other hosts reach ${h.name}) to '${h.name}'`));
    else if (!isIPv4(h.address)) out.push(err(key, `address=${h.address} is not an IPv4 address`, "write the host's IPv4 address on the network between the hosts"));
    if (!hostShell(h.uri)) out.push(err(key, `uri=${h.uri}: the tunnel between the hosts needs a shell on each, which this URI does not give`, "use qemu:///system for the machine running Pulumi and qemu+ssh://USER@HOST/system (a user with passwordless sudo, or root) for the others"));
  }
  if (several && !isLocalSystem(c.hypervisors[0].uri)) {
    out.push(err("hypervisors[0]", `${c.hypervisors[0].name} (${c.hypervisors[0].uri}) carries the node network's gateway, DHCP and DNS, and the machine running Pulumi reaches every node through it: it must be this machine`, "list the host Pulumi runs on first, with uri=qemu:///system"));
  }
  for (const n of c.nodes) {
    if (n.host === undefined || c.hypervisors.some((h) => h.name === n.host)) continue;
    out.push(err(`nodes[${n.index}]`, `host=${n.host} is not a hypervisor of this config (${c.hypervisors.map((h) => h.name).join(", ")})`, hypervisorsGiven ? "name one of the hypervisors entries, or add an entry for it" : "add the host to hypervisors ('name=NAME uri=URI address=IP'), or remove host="));
  }
  return out;
}
