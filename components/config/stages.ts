// The stages a lab can be stood up to, one layer at a time (key `upTo`), in the order `up`
// reaches them: the VMs, the PKI, etcd (with node prep and the release files), kube-nginx,
// the control plane (with the admin group's binding), the workers (and every node
// registered), the addons. Pure. Depends on nothing.

export const STAGES = ["vms", "pki", "etcd", "kube-nginx", "control-plane", "workers", "addons"] as const;
export type Stage = (typeof STAGES)[number];

/** Whether a config standing up to `upTo` includes `stage`. */
export function reaches(c: { upTo: Stage }, stage: Stage): boolean {
  return STAGES.indexOf(c.upTo) >= STAGES.indexOf(stage);
}
