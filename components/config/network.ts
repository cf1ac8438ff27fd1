// IPv4 address and CIDR arithmetic for the config model (parsing by ipaddr.js).
// Owns: CIDR parsing, containment, overlap and the n-th host of a range. Depends on nothing.
import * as ipaddr from "ipaddr.js";

export interface Cidr {
  /** Canonical text, e.g. "10.96.0.0/12" (host bits cleared). */
  text: string;
  /** Network address as an unsigned 32-bit number. */
  network: number;
  /** Prefix length. */
  prefix: number;
  /** Number of addresses in the range. */
  size: number;
}

export function ipToInt(ip: string): number {
  const bytes = ipaddr.IPv4.parse(ip).toByteArray();
  return ((bytes[0] << 24) >>> 0) + (bytes[1] << 16) + (bytes[2] << 8) + bytes[3];
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** A dotted-quad IPv4 address in its canonical four-part form. */
export function isIPv4(s: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(s);
}

/** Parses "a.b.c.d/n"; undefined when it is not an IPv4 CIDR. */
export function parseCidr(s: string): Cidr | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m || !isIPv4(m[1])) return undefined;
  const prefix = Number(m[2]);
  if (prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const network = prefix === 0 ? 0 : (ipToInt(m[1]) & ((~0 << (32 - prefix)) >>> 0)) >>> 0;
  return { text: `${intToIp(network)}/${prefix}`, network, prefix, size };
}

export function contains(c: Cidr, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= c.network && n < c.network + c.size;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.network < b.network + b.size && b.network < a.network + a.size;
}

/** The n-th address of the range (0 = the network address). */
export function nthAddress(c: Cidr, n: number): string {
  if (n < 0 || n >= c.size) throw new RangeError(`${c.text} has no address #${n}`);
  return intToIp(c.network + n);
}

export function broadcastAddress(c: Cidr): string {
  return intToIp(c.network + c.size - 1);
}

/**
 * The pod subnet of a node on the bridge network: the /24 of the pod CIDR numbered like the
 * node's host number in the node network (node .140 → 10.244.140.0/24). Stable when nodes
 * come and go; undefined when the pod CIDR has no /24 with that number.
 */
export function podSubnetOf(podCidr: Cidr, nodeCidr: Cidr, nodeIp: string): string | undefined {
  const host = ipToInt(nodeIp) - nodeCidr.network;
  if (host < 0 || host >= slash24Count(podCidr)) return undefined;
  return `${intToIp(podCidr.network + host * 256)}/24`;
}

/** How many /24 subnets fit in the range (what the controller-manager hands out to nodes). */
export function slash24Count(c: Cidr): number {
  return c.prefix > 24 ? 0 : 2 ** (24 - c.prefix);
}
