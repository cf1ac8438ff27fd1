// Wiring of the VMs (owner `vms`): with libvirt, per host the node network, the pool and
// the base image (and, with several hosts, the tunnel between them), and per node its
// DHCP/DNS entry (on the first host), disk, seed and domain (on its own host); with existing hosts, nothing but
// the readiness gates. Either way each node's readiness gate (SSH answers, cloud-init done),
// which every host step of the node waits for. Depends on: cluster/builder, vm/plan.
import { NodeSpec, hypervisorOf, machineGeneration, multiHost } from "../../config";
import { LibvirtObjectPlan, planBaseVolume, planCloudInitDisk, planDomain, planNetwork, planNodeAddress, planNodeVolume, planPool, planTunnel, readinessScript } from "../../vm/plan";
import { PlanBuilder } from "../builder";
import { LibvirtStep, PlannedStep, ReadyStep } from "../types";

/** Each node's readiness gate, by node name. */
export type ReadyGates = Record<string, string>;

export function wireVms(b: PlanBuilder): ReadyGates {
  const c = b.config;
  const ready: ReadyGates = {};
  const steps: PlannedStep[] = [];
  const libvirt = (id: string, uri: string, object: (key: string) => LibvirtObjectPlan, node?: string, replacedWith: string[] = []) =>
    b.add<LibvirtStep>({ id, kind: "libvirt", layer: "vm", owner: "vms", node, object, needsSshKey: object.length > 0, uri, replacedWith });
  const gate = (n: NodeSpec, withCloudInit: boolean) => {
    const uri = hypervisorOf(c, n).uri;
    const r = b.add<ReadyStep>({ id: `ready-${n.name}`, kind: "ready", layer: "vm:ready", owner: "vms", node: n.name, script: readinessScript(c, n, withCloudInit), uri });
    ready[n.name] = r.id;
    return r;
  };
  if (c.hypervisor.mode === "libvirt") {
    // each host: the node network, the pool and the base image; the first host's under the
    // names they had before several hosts existed, the others' named after their host
    const onHost = new Map<string, { network: LibvirtStep; pool: LibvirtStep; base: LibvirtStep }>();
    const tunnels: LibvirtStep[] = [];
    for (const h of c.hypervisors) {
      const suffix = h === c.hypervisors[0] ? "" : `-on-${h.name}`;
      const network = libvirt(`network-${c.name}${suffix}`, h.uri, () => planNetwork(c, h));
      const pool = libvirt(`pool-${c.hypervisor.pool}${suffix}`, h.uri, () => planPool(c, h));
      const base = libvirt(`volume-base${suffix}`, h.uri, () => planBaseVolume(c, h));
      b.edge(base.id, pool.id, "the base image is a volume in the pool");
      steps.push(network, pool, base);
      onHost.set(h.name, { network, pool, base });
      if (multiHost(c)) {
        const tunnel = libvirt(`tunnel-${h.name}`, h.uri, () => planTunnel(c, h));
        b.edge(tunnel.id, network.id, "the tunnel's end is a port of the host's node network bridge");
        steps.push(tunnel);
        tunnels.push(tunnel);
      }
    }
    const first = onHost.get(c.hypervisors[0].name)!;
    for (const n of c.nodes) {
      const host = hypervisorOf(c, n);
      const { network, pool, base } = onHost.get(host.name)!;
      // rebuildNodes: a new machine, from a new disk and seed; its domain, gate and every step follow
      const generation = machineGeneration(c, b.options.lastUp, n.name);
      const disk = libvirt(`volume-${n.name}`, host.uri, () => planNodeVolume(c, n, generation), n.name);
      b.edge(disk.id, base.id, "the node's disk is an overlay on the base image");
      const seed = libvirt(`cloudinit-${n.name}`, host.uri, (key) => planCloudInitDisk(c, n, key, generation), n.name);
      b.edge(seed.id, pool.id, "the cloud-init seed is a volume in the pool");
      const address = libvirt(`address-${n.name}`, c.hypervisors[0].uri, () => planNodeAddress(c, n), n.name);
      b.edge(address.id, first.network.id, "the node's DHCP reservation and DNS names are entries of the lab network (on the first host: its dnsmasq answers every host's nodes)");
      const domain = libvirt(`domain-${n.name}`, host.uri, () => planDomain(c, n), n.name, [disk.id, seed.id]);
      b.edge(domain.id, network.id, "the domain's NIC is on the lab network");
      b.edge(domain.id, address.id, "the guest's DHCP lease must give it the node's fixed IP");
      b.edge(domain.id, disk.id, "the domain boots from its disk");
      b.edge(domain.id, seed.id, "cloud-init reads the seed at first boot");
      for (const t of tunnels) b.edge(domain.id, t.id, "the guest's DHCP request and every node it talks to may be on another host, through the tunnel");
      const r = gate(n, true);
      b.edge(r.id, domain.id, "the guest must be running to answer SSH");
      steps.push(address, disk, seed, domain, r);
    }
  } else {
    for (const n of c.nodes) steps.push(gate(n, false));
  }
  b.layer("vm", "vms", "none", steps);
  return ready;
}
