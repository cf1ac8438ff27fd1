// VM planning: the libvirt objects of the lab as data — for each, the virsh/qemu-img
// scripts that create and delete it, what replaces it, and its documents (vm/documents) —
// and each node's readiness gate. Shapes follow the libvirt provider's (Network, Pool,
// Volume, CloudInitDisk, Domain), so moving to a generated provider later is a local change.
// Pure. Depends on: config, host, vm/documents.
import { createHash } from "crypto";
import { ClusterConfig, HypervisorSpec, MachineState, NodeSpec, TUNNEL_MTU, hostShell, hypervisorOf } from "../config";
import { shq } from "../host/plan";
import { shellAsset } from "../host/assets";
import { domainXml, libvirtNames, metaData, networkXml, nodeAddressXml, poolXml, userData } from "./documents";

export * from "./documents";
// ---- scripts (run on the machine running Pulumi, against the libvirt URI) ------------

// Every script first proves libvirt answers: a delete that cannot connect must fail, not
// read "not found" and report the VM deleted (seen in a real destroy whose libvirtd socket
// was gone: every libvirt object "deleted" in 0.05 s, every disk left behind).
const HEAD = shellAsset(__dirname, "virsh.sh");

/** `COMMAND <<'MARKER'`, the text, MARKER: the text reaches COMMAND's stdin as it is. */
function heredoc(target: string, text: string, command = `cat > ${target}`): string[] {
  let marker = "K8SLAB_XML";
  while (text.includes(marker)) marker += "_";
  return [`${command} <<'${marker}'`, text.replace(/\n$/, ""), marker];
}

/** Deletes a volume; succeeds when it is gone (deleted now, or never there). */
function deleteVolume(pool: string, vol: string): string {
  return [...HEAD, `virsh vol-delete --pool ${shq(pool)} ${shq(vol)} >/dev/null 2>&1 || ! virsh vol-info --pool ${shq(pool)} ${shq(vol)} >/dev/null 2>&1`].join("\n");
}

export interface LibvirtObjectPlan {
  /** What it is, libvirt-provider style (a Tunnel is the host's VXLAN device, made with ip, not virsh). */
  kind: "Network" | "NetworkHost" | "Pool" | "Volume" | "CloudInitDisk" | "Domain" | "Tunnel";
  name: string;
  /** The libvirt URI of the host it is made on (LIBVIRT_URI of its scripts). */
  uri: string;
  /** Node it belongs to, if any. */
  node?: string;
  create: string;
  delete: string;
  /** Replacement triggers: the values whose change libvirt cannot apply in place. */
  triggers: Record<string, unknown>;
  /** The XML or user-data this object is made from, for validation and the render. */
  documents: Record<string, string>;
}

export function planNetwork(c: ClusterConfig, host: HypervisorSpec = c.hypervisors[0]): LibvirtObjectPlan {
  const n = libvirtNames(c);
  const doc = networkXml(c, host);
  return {
    kind: "Network",
    name: n.network,
    uri: host.uri,
    create: [
      ...HEAD,
      `if ! virsh net-info ${shq(n.network)} >/dev/null 2>&1; then`,
      '  tmp=$(mktemp); trap \'rm -f "$tmp"\' EXIT',
      ...heredoc('"$tmp"', doc).map((l) => l),
      '  virsh net-define "$tmp" >/dev/null',
      "fi",
      `if [[ $(virsh net-info ${shq(n.network)} | awk '/^Active:/ {print $2}') != yes ]]; then virsh net-start ${shq(n.network)} >/dev/null; fi`,
      `virsh net-autostart ${shq(n.network)} >/dev/null`,
    ].join("\n"),
    delete: [
      ...HEAD,
      `if virsh net-info ${shq(n.network)} >/dev/null 2>&1; then`,
      `  virsh net-destroy ${shq(n.network)} >/dev/null 2>&1 || true`,
      `  virsh net-undefine ${shq(n.network)} >/dev/null`,
      "fi",
    ].join("\n"),
    triggers: { xml: doc },
    documents: { "network.xml": doc },
  };
}

/**
 * One node's entry in the lab network: its DHCP reservation and its DNS names, added to the
 * defined and the running network (`virsh net-update … --config`, and `--live` when it
 * runs); removed on delete, by its address alone (nodeAddressXml: a control-plane node's entry
 * may share the apiserver name with the others'). Re-running replaces the entry, so it is
 * idempotent.
 */
export function planNodeAddress(c: ClusterConfig, node: NodeSpec): LibvirtObjectPlan {
  const n = libvirtNames(c);
  const { dhcpHost, dnsHost, dnsHostKey } = nodeAddressXml(c, node);
  const net = shq(n.network);
  const flags = [`flags=(--config); if [[ $(virsh net-info ${net} | awk '/^Active:/ {print $2}') == yes ]]; then flags+=(--live); fi`];
  const remove = [`virsh net-update ${net} delete ip-dhcp-host ${shq(dhcpHost)} "\${flags[@]}" >/dev/null 2>&1 || true`, `virsh net-update ${net} delete dns-host ${shq(dnsHostKey)} "\${flags[@]}" >/dev/null 2>&1 || true`];
  return {
    kind: "NetworkHost",
    name: node.name,
    // the first host's network holds every node's entry: its dnsmasq answers the nodes of every host
    uri: c.hypervisors[0].uri,
    node: node.name,
    create: [...HEAD, ...flags, ...remove, `virsh net-update ${net} add-last ip-dhcp-host ${shq(dhcpHost)} "\${flags[@]}" >/dev/null`, `virsh net-update ${net} add-last dns-host ${shq(dnsHost)} "\${flags[@]}" >/dev/null`].join("\n"),
    delete: [...HEAD, `if virsh net-info ${net} >/dev/null 2>&1; then`, ...[...flags, ...remove].map((l) => `  ${l}`), "fi"].join("\n"),
    triggers: { dhcpHost, dnsHost },
    documents: { "network-host.xml": `${dhcpHost}\n${dnsHost}\n` },
  };
}

export function planPool(c: ClusterConfig, host: HypervisorSpec = c.hypervisors[0]): LibvirtObjectPlan {
  const p = c.hypervisor.pool;
  const doc = poolXml(c);
  return {
    kind: "Pool",
    name: p,
    uri: host.uri,
    create: [
      ...HEAD,
      `if ! virsh pool-info ${shq(p)} >/dev/null 2>&1; then`,
      '  tmp=$(mktemp); trap \'rm -f "$tmp"\' EXIT',
      ...heredoc('"$tmp"', doc),
      '  virsh pool-define "$tmp" >/dev/null',
      `  virsh pool-build ${shq(p)} >/dev/null`,
      "fi",
      `if [[ $(virsh pool-info ${shq(p)} | awk '/^State:/ {print $2}') != running ]]; then`,
      `  virsh pool-build ${shq(p)} >/dev/null 2>&1 || true # the directory may have been removed by hand`,
      `  virsh pool-start ${shq(p)} >/dev/null`,
      "fi",
      `virsh pool-autostart ${shq(p)} >/dev/null`,
    ].join("\n"),
    delete: [
      ...HEAD,
      `if virsh pool-info ${shq(p)} >/dev/null 2>&1; then`,
      `  virsh pool-destroy ${shq(p)} >/dev/null 2>&1 || true`,
      `  virsh pool-delete ${shq(p)} >/dev/null 2>&1 || true`,
      `  virsh pool-undefine ${shq(p)} >/dev/null`,
      "fi",
    ].join("\n"),
    triggers: { xml: doc },
    documents: { "pool.xml": doc },
  };
}

/** The base image, once, into the pool: downloaded (digest checked, through the proxy) or uploaded from a local file. */
export function planBaseVolume(c: ClusterConfig, host: HypervisorSpec = c.hypervisors[0]): LibvirtObjectPlan {
  const n = libvirtNames(c);
  const img = c.hypervisor.baseImage!;
  const source =
    "url" in img
      ? [
          '  src="$tmp/image"',
          ...(c.proxy ? [`  export https_proxy=${shq(c.proxy.https ?? "")} http_proxy=${shq(c.proxy.http ?? "")} no_proxy=${shq(c.proxy.noProxy.join(","))}`] : []),
          `  curl -fsSL --retry 5 -o "$src" ${shq(img.url)}`,
          `  want=${shq(img.checksum)}; have="\${want%%:*}:$("\${want%%:*}sum" "$src" | cut -d' ' -f1)"`,
          `  if [[ $have != "$want" ]]; then echo "base image checksum mismatch for ${img.url}: expected $want, got $have" >&2; exit 1; fi`,
        ]
      : [`  src=${shq(img.path)}`, `  [[ -r $src ]] || { echo "base image ${img.path} is not readable on this machine (baseImagePath)" >&2; exit 1; }`];
  return {
    kind: "Volume",
    name: n.baseVolume,
    uri: host.uri,
    create: [
      ...HEAD,
      `if ! virsh vol-info --pool ${shq(n.pool)} ${shq(n.baseVolume)} >/dev/null 2>&1; then`,
      '  tmp=$(mktemp -d); trap \'rm -rf "$tmp"\' EXIT',
      ...source,
      `  virsh vol-create-as ${shq(n.pool)} ${shq(n.baseVolume)} "$(stat -c %s "$src")" --format raw >/dev/null`,
      `  virsh vol-upload --pool ${shq(n.pool)} ${shq(n.baseVolume)} "$src"`,
      `  virsh pool-refresh ${shq(n.pool)} >/dev/null`,
      "fi",
    ].join("\n"),
    delete: deleteVolume(n.pool, n.baseVolume),
    triggers: "url" in img ? { url: img.url, checksum: img.checksum } : { path: img.path },
    documents: {},
  };
}

/** The triggers of a node's new machine (rebuildNodes): its generation, from the second machine on (the first one's triggers stay as they were). */
const machineTrigger = (generation: number) => (generation > 1 ? { machine: generation } : {});

/** One qcow2 overlay per node on the base image, at the node's disk size; a new machine (generation) gets a new one. */
export function planNodeVolume(c: ClusterConfig, node: NodeSpec, generation = 1): LibvirtObjectPlan {
  const n = libvirtNames(c);
  const vol = n.disk(node.name);
  return {
    kind: "Volume",
    name: vol,
    node: node.name,
    uri: hypervisorOf(c, node).uri,
    create: [
      ...HEAD,
      `if ! virsh vol-info --pool ${shq(n.pool)} ${shq(vol)} >/dev/null 2>&1; then`,
      `  virsh vol-create-as ${shq(n.pool)} ${shq(vol)} ${node.diskGiB}G --format qcow2 --backing-vol ${shq(n.baseVolume)} --backing-vol-format qcow2 >/dev/null`,
      "fi",
    ].join("\n"),
    delete: deleteVolume(n.pool, vol),
    triggers: { diskGiB: node.diskGiB, base: n.baseVolume, ...machineTrigger(generation) },
    documents: {},
  };
}

/** The NoCloud seed ISO with the node's user-data and meta-data, uploaded into the pool. */
export function planCloudInitDisk(c: ClusterConfig, node: NodeSpec, sshPublicKey: string, generation = 1): LibvirtObjectPlan {
  const n = libvirtNames(c);
  const iso = n.seed(node.name);
  const ud = userData(c, node, sshPublicKey);
  const md = metaData(c, node, ud);
  return {
    kind: "CloudInitDisk",
    name: iso,
    node: node.name,
    uri: hypervisorOf(c, node).uri,
    create: [
      ...HEAD,
      'tmp=$(mktemp -d); trap \'rm -rf "$tmp"\' EXIT',
      ...heredoc('"$tmp/user-data"', ud),
      ...heredoc('"$tmp/meta-data"', md),
      'genisoimage -quiet -output "$tmp/seed.iso" -volid cidata -joliet -rock "$tmp/user-data" "$tmp/meta-data"',
      `virsh vol-delete --pool ${shq(n.pool)} ${shq(iso)} >/dev/null 2>&1 || true`,
      `virsh vol-create-as ${shq(n.pool)} ${shq(iso)} "$(stat -c %s "$tmp/seed.iso")" --format raw >/dev/null`,
      `virsh vol-upload --pool ${shq(n.pool)} ${shq(iso)} "$tmp/seed.iso"`,
    ].join("\n"),
    delete: deleteVolume(n.pool, iso),
    triggers: { userData: ud, metaData: md, ...machineTrigger(generation) },
    documents: { "user-data": ud, "meta-data": md },
  };
}

export function planDomain(c: ClusterConfig, node: NodeSpec): LibvirtObjectPlan {
  const n = libvirtNames(c);
  const dom = n.domain(node.name);
  const doc = domainXml(c, node);
  return {
    kind: "Domain",
    name: dom,
    node: node.name,
    uri: hypervisorOf(c, node).uri,
    create: [
      ...HEAD,
      `if ! virsh dominfo ${shq(dom)} >/dev/null 2>&1; then`,
      '  tmp=$(mktemp); trap \'rm -f "$tmp"\' EXIT',
      ...heredoc('"$tmp"', doc),
      '  virsh define "$tmp" >/dev/null',
      "fi",
      `if [[ $(virsh domstate ${shq(dom)}) != running ]]; then virsh start ${shq(dom)} >/dev/null; fi`,
      `virsh autostart ${shq(dom)} >/dev/null`,
    ].join("\n"),
    delete: [
      ...HEAD,
      `if virsh dominfo ${shq(dom)} >/dev/null 2>&1; then`,
      `  virsh destroy ${shq(dom)} >/dev/null 2>&1 || true`,
      `  virsh undefine ${shq(dom)} --nvram >/dev/null 2>&1 || virsh undefine ${shq(dom)} >/dev/null`,
      "fi",
      "# the serial console log and QEMU's log are written by the local libvirtd; a remote one keeps its own",
      `if [[ $LIBVIRT_URI == qemu:///* ]]; then rm -f -- ${shq(n.consoleLog(node.name))} ${shq(`/var/log/libvirt/qemu/${dom}.log`)}; fi`,
    ].join("\n"),
    // A running domain cannot take these in place: a change replaces it (the preview names the field).
    triggers: { vcpu: node.vcpu, memoryMiB: node.memoryMiB, mac: node.mac, domainType: c.hypervisor.domainType, xml: doc },
    documents: { "domain.xml": doc },
  };
}

// ---- the tunnel between the hosts (several hypervisors) ---------------------------------

/** The VXLAN network identifier of the cluster's tunnel: from its name, so two labs on the same hosts do not share one. */
export function tunnelVni(c: ClusterConfig): number {
  return (parseInt(createHash("sha256").update(c.name).digest("hex").slice(0, 6), 16) % 0xfffffe) + 1;
}

/** Runs a script as root on a host: here (sudo -n unless root) or over SSH as its URI says. */
function onHost(host: HypervisorSpec, script: string): string {
  const shell = hostShell(host.uri);
  if (!shell) throw new Error(`hypervisor ${host.name}: ${host.uri} gives no shell (preflight refuses it)`);
  const asRoot = 'if [ "$(id -u)" -ne 0 ]; then exec sudo -n bash -s; else exec bash -s; fi';
  const run = shell.ssh ? `ssh ${shell.ssh.map(shq).join(" ")} ${shq(asRoot)}` : `bash -c ${shq(asRoot)}`;
  return ["set -euo pipefail", ...heredoc("", script, run)].join("\n");
}

/**
 * The host's end of the tunnel: a VXLAN device on its bridge of the node network, flooding
 * to every other host's address (unicast, head-end replication: no multicast on the wire),
 * so the hosts' bridges are one Ethernet segment. Made with ip and bridge as root on the
 * host (tunnel.sh); deleted with the device. Its trigger is only the device and the host: a
 * change of the other hosts (one added or removed) or of its id reruns the create in place,
 * which keeps the device's remotes exactly as given, without taking the tunnel down first.
 * A network restarted on the host (or the host rebooted) loses it: pulumi up --replace of
 * this step makes it again.
 */
export function planTunnel(c: ClusterConfig, host: HypervisorSpec): LibvirtObjectPlan {
  const n = libvirtNames(c);
  const remotes = c.hypervisors.filter((h) => h !== host).map((h) => h.address!);
  const vars = { DEV: n.tunnel, BRIDGE: n.bridge, VNI: String(tunnelVni(c)), LOCAL: host.address!, REMOTES: remotes.join(" "), MTU: String(TUNNEL_MTU) };
  const assign = Object.entries(vars).map(([k, v]) => `${k}=${shq(v)}`);
  const body = shellAsset(__dirname, "tunnel.sh");
  return {
    kind: "Tunnel",
    name: `${n.tunnel}-${host.name}`,
    uri: host.uri,
    create: onHost(host, [...assign, ...body, "tunnel_up"].join("\n")),
    delete: onHost(host, [...assign, ...body, "tunnel_down"].join("\n")),
    triggers: { device: n.tunnel, host: host.uri },
    documents: { [`tunnel-${host.name}.env`]: assign.join("\n") + "\n" },
  };
}

// ---- the machines libvirt still has (asked at the program's start, read-only) -----------

/**
 * The probes of the nodes' machines, one per host: its script and environment (machines.sh).
 * A node of this config is asked on its own host; one no longer in it (leaving) on every host.
 */
export function machinesProbes(c: ClusterConfig, nodes: readonly string[]): Array<{ host: string; script: string; environment: Record<string, string> }> {
  const n = libvirtNames(c);
  const hostOf = (x: string) => c.nodes.find((m) => m.name === x);
  return c.hypervisors
    .map((h) => ({ h, mine: nodes.filter((x) => { const m = hostOf(x); return !m || hypervisorOf(c, m) === h; }) }))
    .filter(({ mine }) => mine.length > 0)
    .map(({ h, mine }) => ({
      host: h.name,
      script: shellAsset(__dirname, "machines.sh").join("\n"),
      environment: { LIBVIRT_URI: h.uri, POOL: n.pool, MACHINES: mine.map((x) => `${x} ${n.domain(x)} ${n.disk(x)}`).join("\n") },
    }));
}

/** Every host's answer about one node in one: present where any host has it. */
export function mergeMachineStates(answers: MachineState[][]): MachineState[] {
  const out = new Map<string, MachineState>();
  for (const m of answers.flat()) {
    const had = out.get(m.node);
    out.set(m.node, had ? { node: m.node, domain: had.domain || m.domain, disk: had.disk || m.disk } : m);
  }
  return [...out.values()];
}

/** The probe's answer: each node's domain and disk, or undefined when libvirt did not answer. */
export function parseMachinesProbe(stdout: string): MachineState[] | undefined {
  const lines = stdout.split("\n").map((l) => l.trim()).filter(Boolean);
  if (lines.includes("unreachable")) return undefined;
  return lines.map((l) => {
    const [node, domain, disk] = l.split(/\s+/);
    if (!node || !/^(present|absent)$/.test(domain ?? "") || !/^(present|absent)$/.test(disk ?? "")) throw new Error(`machines probe: unexpected line '${l}'`);
    return { node, domain: domain === "present", disk: disk === "present" };
  });
}

export const SSH_TIMEOUT_S = 900;
export const CLOUD_INIT_TIMEOUT_S = 1200;

/** A bounded wait for SSH, then for cloud-init; the private key comes on stdin. */
export function readinessScript(c: ClusterConfig, node: NodeSpec, withCloudInit: boolean): string {
  const where = c.hypervisor.mode === "libvirt" ? `its console log is ${libvirtNames(c).consoleLog(node.name)} on the hypervisor (virsh console ${libvirtNames(c).domain(node.name)})` : "check that the host is up and sshd runs";
  const target = `${c.ssh.user}@${node.ip}`;
  return [
    "set -euo pipefail",
    'key=$(mktemp); trap \'rm -f "$key"\' EXIT; cat > "$key"',
    'ssh_() { ssh -i "$key" -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$@"; }',
    `deadline=$((SECONDS + ${SSH_TIMEOUT_S}))`,
    `until ssh_ ${target} true 2>/dev/null; do`,
    ...(withCloudInit && c.hypervisor.mode === "libvirt"
      ? [
          // cloud-init that found no seed never creates the login user: say so at once
          `  if [[ $LIBVIRT_URI == qemu:///* ]] && grep -qs DataSourceNone ${shq(libvirtNames(c).consoleLog(node.name))}; then`,
          `    echo "node ${node.name}: cloud-init found no NoCloud seed (DataSourceNone in ${libvirtNames(c).consoleLog(node.name)}), so the login user was never created; the guest kernel cannot see the seed disk" >&2; exit 1`,
          "  fi",
        ]
      : []),
    `  if ((SECONDS > deadline)); then echo "node ${node.name} (${node.ip}) did not answer SSH within ${SSH_TIMEOUT_S} s; ${where}" >&2; exit 1; fi`,
    "  sleep 5",
    "done",
    ...(withCloudInit
      ? [
          // sshd may restart while cloud-init runs (its host keys, its config): a connection that
          // fails (ssh exits 255) is tried again; cloud-init's own answer (0 done, else not clean) is final
          `deadline=$((SECONDS + ${CLOUD_INIT_TIMEOUT_S}))`,
          "while :; do",
          `  rc=0; ssh_ ${target} "timeout ${CLOUD_INIT_TIMEOUT_S} cloud-init status --wait" >/dev/null || rc=$?`,
          "  [[ $rc -eq 255 ]] || break",
          `  if ((SECONDS > deadline)); then echo "node ${node.name} (${node.ip}) stopped answering SSH while cloud-init ran; ${where}" >&2; exit 1; fi`,
          "  sleep 5",
          "done",
          "if [[ $rc -ne 0 ]]; then",
          `  echo "cloud-init on node ${node.name} did not finish cleanly within ${CLOUD_INIT_TIMEOUT_S} s (exit $rc); on the node: cloud-init status --long; ${where}" >&2`,
          "  exit 1",
          "fi",
        ]
      : []),
    `echo "${node.name} ready"`,
  ].join("\n");
}
