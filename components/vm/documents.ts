// The VM layer's documents: the libvirt names of the lab, the network, pool and domain XML
// (xmlbuilder2) and each node's cloud-init user-data and meta-data (YAML).
// Pure. Depends on: config, host, node-prep (node settings shared with `existing` hosts).
import { createHash } from "crypto";
import { create } from "xmlbuilder2";
import * as YAML from "yaml";
import { ClusterConfig, HypervisorSpec, NodeSpec, TUNNEL_MTU, labApiserverName, labDnsDomain, multiHost } from "../config";
import { FSTAB_SWAP_OFF, KERNEL_MODULES, MASK_SWAP_UNITS, MODULES_FILE, PROXY_ENV_FILE, packagesFor, SYSCTLS, SYSCTL_FILE, proxyEnvironment } from "../node-prep/prep";

export interface LibvirtNames {
  network: string;
  bridge: string;
  /** The VXLAN device joining the hosts' bridges (several hypervisors). */
  tunnel: string;
  dnsDomain: string;
  pool: string;
  baseVolume: string;
  domain(node: string): string;
  disk(node: string): string;
  seed(node: string): string;
  consoleLog(node: string): string;
}

export function libvirtNames(c: ClusterConfig): LibvirtNames {
  return {
    network: c.name,
    bridge: `br-${c.name}`.slice(0, 15),
    tunnel: `vx-${c.name}`.slice(0, 15),
    dnsDomain: labDnsDomain(c),
    pool: c.hypervisor.pool,
    baseVolume: `${c.name}-base.qcow2`,
    domain: (n) => `${c.name}-${n}`,
    disk: (n) => `${c.name}-${n}.qcow2`,
    seed: (n) => `${c.name}-${n}-seed.iso`,
    consoleLog: (n) => `/var/log/libvirt/qemu/${c.name}-${n}-serial.log`,
  };
}

function netmask(prefix: number): string {
  const m = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join(".");
}

const xml = (obj: object) => create({ version: "1.0" }, obj).end({ prettyPrint: true, headless: true }) + "\n";

/**
 * The node network on one host. On the first host (the only one, usually): a NAT network
 * for the node CIDR with the gateway, DHCP and DNS. It names no node: each node's fixed
 * address and DNS names are its own entry (planNodeAddress), added to the running network,
 * so adding or removing a node never redefines the network under the other nodes. On every
 * other host: a bridge with no address (no DHCP, no DNS, no NAT), which the tunnel joins
 * to the first host's, whose dnsmasq then answers that host's nodes too.
 */
export function networkXml(c: ClusterConfig, host: HypervisorSpec = c.hypervisors[0]): string {
  const n = libvirtNames(c);
  const cidr = c.network.cidrs.node;
  const bridge = { "@name": n.bridge, "@stp": "on", "@delay": "0" };
  const mtu = multiHost(c) ? { mtu: { "@size": String(TUNNEL_MTU) } } : {};
  if (host !== c.hypervisors[0]) return xml({ network: { name: n.network, bridge, ...mtu } });
  return xml({
    network: {
      name: n.network,
      forward: { "@mode": "nat" },
      bridge,
      ...mtu,
      domain: { "@name": n.dnsDomain, "@localOnly": "yes" },
      ip: { "@address": c.network.gateway, "@netmask": netmask(cidr.prefix), dhcp: {} },
    },
  });
}

/**
 * A node's DHCP reservation (MAC → IP and name) and DNS entry, as `virsh net-update` takes
 * them. A control-plane node's entry also carries apiserverEndpoint when that is a name in the
 * lab's domain (labApiserverName): the name then resolves to every control-plane node.
 * `dnsHostKey` names the entry by its address alone, for removing it: libvirt refuses to
 * remove by an element whose name matches several entries (the shared apiserver name does).
 */
export function nodeAddressXml(c: ClusterConfig, node: NodeSpec): { dhcpHost: string; dnsHost: string; dnsHostKey: string } {
  const d = libvirtNames(c).dnsDomain;
  const api = node.roles.has("control-plane") ? labApiserverName(c) : undefined;
  const one = (obj: object) => create(obj).end({ headless: true });
  return {
    dhcpHost: one({ host: { "@mac": node.mac, "@name": node.name, "@ip": node.ip } }),
    dnsHost: one({ host: { "@ip": node.ip, hostname: [node.name, `${node.name}.${d}`, ...(api ? [api] : [])] } }),
    dnsHostKey: one({ host: { "@ip": node.ip } }),
  };
}

export function poolXml(c: ClusterConfig): string {
  return xml({ pool: { "@type": "dir", name: c.hypervisor.pool, target: { path: c.hypervisor.poolPath } } });
}

/** The domain of one node; `kvm` uses the host CPU, `qemu` (TCG) emulates one. */
export function domainXml(c: ClusterConfig, node: NodeSpec): string {
  const n = libvirtNames(c);
  const kvm = c.hypervisor.domainType === "kvm";
  return xml({
    domain: {
      "@type": c.hypervisor.domainType,
      name: n.domain(node.name),
      description: `k8s-lab node ${node.name} (${[...node.roles].join(", ")}) of cluster ${c.name}`,
      memory: { "@unit": "MiB", "#": String(node.memoryMiB) },
      currentMemory: { "@unit": "MiB", "#": String(node.memoryMiB) },
      vcpu: { "@placement": "static", "#": String(node.vcpu) },
      os: { type: { "@arch": "x86_64", "#": "hvm" }, boot: { "@dev": "hd" } },
      features: { acpi: {}, apic: {} },
      ...(kvm ? { cpu: { "@mode": "host-passthrough", "@check": "none" } } : {}),
      clock: { "@offset": "utc" },
      on_poweroff: "destroy",
      on_reboot: "restart",
      on_crash: "destroy",
      devices: {
        disk: [
          {
            "@type": "volume",
            "@device": "disk",
            driver: { "@name": "qemu", "@type": "qcow2", "@discard": "unmap" },
            source: { "@pool": n.pool, "@volume": n.disk(node.name) },
            target: { "@dev": "vda", "@bus": "virtio" },
          },
          // The NoCloud seed as a read-only virtio disk: cloud-init finds it by its label
          // (cidata). Every cloud kernel has virtio-blk; Debian's cloud kernel has no AHCI, so
          // a SATA cdrom would be invisible and cloud-init would fall back to DataSourceNone.
          {
            "@type": "volume",
            "@device": "disk",
            driver: { "@name": "qemu", "@type": "raw" },
            source: { "@pool": n.pool, "@volume": n.seed(node.name) },
            target: { "@dev": "vdb", "@bus": "virtio" },
            readonly: {},
          },
        ],
        interface: { "@type": "network", mac: { "@address": node.mac }, source: { "@network": n.network }, model: { "@type": "virtio" }, ...(multiHost(c) ? { mtu: { "@size": String(TUNNEL_MTU) } } : {}) },
        serial: { "@type": "pty", log: { "@file": n.consoleLog(node.name), "@append": "on" }, target: { "@port": "0" } },
        console: { "@type": "pty", target: { "@type": "serial", "@port": "0" } },
        channel: { "@type": "unix", target: { "@type": "virtio", "@name": "org.qemu.guest_agent.0" } },
        rng: { "@model": "virtio", backend: { "@model": "random", "#": "/dev/urandom" } },
        memballoon: { "@model": "virtio" },
      },
    },
  });
}

/**
 * /etc/hosts of one node: its own name, so it resolves before any network is up. The other
 * nodes' names come from the lab network's DNS (each node's entry, planNodeAddress): the
 * seed names no other node, so adding one never changes a running node's seed (which would
 * replace the VM).
 */
export function etcHosts(c: ClusterConfig, node: NodeSpec): string {
  const d = libvirtNames(c).dnsDomain;
  return ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback", `${node.ip} ${node.name}.${d} ${node.name}`].join("\n") + "\n";
}

/** cloud-init user-data for one node (the SSH public key is filled in at ship time). */
export function userData(c: ClusterConfig, node: NodeSpec, sshPublicKey: string): string {
  const n = libvirtNames(c);
  const env = proxyEnvironment(c);
  const files: Array<Record<string, unknown>> = [
    { path: "/etc/hosts", content: etcHosts(c, node), permissions: "0644" },
    { path: MODULES_FILE, content: KERNEL_MODULES.join("\n") + "\n", permissions: "0644" },
    { path: SYSCTL_FILE, content: Object.entries(SYSCTLS).map(([k, v]) => `${k} = ${v}`).join("\n") + "\n", permissions: "0644" },
  ];
  if (Object.keys(env).length) {
    files.push({ path: PROXY_ENV_FILE, content: Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n", permissions: "0644" });
    if (c.hypervisor.imageFamily === "rhel") files.push({ path: "/etc/dnf/dnf.conf", content: `proxy=${c.proxy!.http ?? c.proxy!.https}\n`, append: true });
  }
  const doc: Record<string, unknown> = {
    hostname: node.name,
    fqdn: `${node.name}.${n.dnsDomain}`,
    prefer_fqdn_over_hostname: false,
    manage_etc_hosts: false,
    users: [
      {
        name: c.ssh.user,
        gecos: "k8s-lab",
        shell: "/bin/bash",
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        lock_passwd: true,
        ssh_authorized_keys: [sshPublicKey.trim()],
      },
    ],
    ssh_pwauth: false,
    disable_root: true,
    // swap off for good: no swap file from cloud-init; fstab entries commented, swap units masked (runcmd)
    swap: { filename: "/swap.img", size: 0 },
    ntp: { enabled: true },
    write_files: files,
    runcmd: [
      ["swapoff", "-a"],
      ["sed", "-ri", FSTAB_SWAP_OFF, "/etc/fstab"],
      ["sh", "-c", MASK_SWAP_UNITS],
      ...KERNEL_MODULES.map((m) => ["modprobe", m]),
      ["sysctl", "--system"],
    ],
  };
  if (c.proxy && c.hypervisor.imageFamily === "debian") doc.apt = { http_proxy: c.proxy.http ?? c.proxy.https, https_proxy: c.proxy.https ?? c.proxy.http };
  if (!c.hypervisor.skipPackageInstall) {
    doc.package_update = true;
    doc.packages = packagesFor(c, c.hypervisor.imageFamily);
  }
  return "#cloud-config\n" + YAML.stringify(doc, { lineWidth: 0 });
}

/**
 * meta-data: the instance-id carries a digest of the user-data, so a guest that boots from
 * its old disk with a changed seed sees a new instance and applies the new user-data
 * (cloud-init runs its per-instance modules once per instance-id).
 */
export function metaData(c: ClusterConfig, node: NodeSpec, userDataText: string): string {
  const digest = createHash("sha256").update(userDataText).digest("hex").slice(0, 12);
  return YAML.stringify({ "instance-id": `${libvirtNames(c).domain(node.name)}-${digest}`, "local-hostname": node.name });
}
