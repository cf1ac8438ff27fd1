// Wiring of the VMs (owner `vms`): with libvirt, the lab network, the pool, the base image
// and per node its DHCP/DNS entry, disk, seed and domain; with existing hosts, nothing but
// the readiness gates. Either way each node's readiness gate (SSH answers, cloud-init done),
// which every host step of the node waits for. Depends on: cluster/builder, vm/plan.
import { NodeSpec, machineGeneration } from "../../config";
import { LibvirtObjectPlan, planBaseVolume, planCloudInitDisk, planDomain, planNetwork, planNodeAddress, planNodeVolume, planPool, readinessScript } from "../../vm/plan";
import { PlanBuilder } from "../builder";
import { LibvirtStep, PlannedStep, ReadyStep } from "../types";

/** Each node's readiness gate, by node name. */
export type ReadyGates = Record<string, string>;

export function wireVms(b: PlanBuilder): ReadyGates {
  const c = b.config;
  const ready: ReadyGates = {};
  const steps: PlannedStep[] = [];
  const libvirt = (id: string, object: (key: string) => LibvirtObjectPlan, node?: string, replacedWith: string[] = []) =>
    b.add<LibvirtStep>({ id, kind: "libvirt", layer: "vm", owner: "vms", node, object, needsSshKey: object.length > 0, replacedWith });
  const gate = (n: NodeSpec, withCloudInit: boolean) => {
    const r = b.add<ReadyStep>({ id: `ready-${n.name}`, kind: "ready", layer: "vm:ready", owner: "vms", node: n.name, script: readinessScript(c, n, withCloudInit) });
    ready[n.name] = r.id;
    return r;
  };
  if (c.hypervisor.mode === "libvirt") {
    const network = libvirt(`network-${c.name}`, () => planNetwork(c));
    const pool = libvirt(`pool-${c.hypervisor.pool}`, () => planPool(c));
    const base = libvirt("volume-base", () => planBaseVolume(c));
    b.edge(base.id, pool.id, "the base image is a volume in the pool");
    steps.push(network, pool, base);
    for (const n of c.nodes) {
      // rebuildNodes: a new machine, from a new disk and seed; its domain, gate and every step follow
      const generation = machineGeneration(c, b.options.lastUp, n.name);
      const disk = libvirt(`volume-${n.name}`, () => planNodeVolume(c, n, generation), n.name);
      b.edge(disk.id, base.id, "the node's disk is an overlay on the base image");
      const seed = libvirt(`cloudinit-${n.name}`, (key) => planCloudInitDisk(c, n, key, generation), n.name);
      b.edge(seed.id, pool.id, "the cloud-init seed is a volume in the pool");
      const address = libvirt(`address-${n.name}`, () => planNodeAddress(c, n), n.name);
      b.edge(address.id, network.id, "the node's DHCP reservation and DNS names are entries of the lab network");
      const domain = libvirt(`domain-${n.name}`, () => planDomain(c, n), n.name, [disk.id, seed.id]);
      b.edge(domain.id, network.id, "the domain's NIC is on the lab network");
      b.edge(domain.id, address.id, "the guest's DHCP lease must give it the node's fixed IP");
      b.edge(domain.id, disk.id, "the domain boots from its disk");
      b.edge(domain.id, seed.id, "cloud-init reads the seed at first boot");
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
