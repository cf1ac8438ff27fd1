// Preflight rules for single settings a reader could get subtly wrong, each one line with
// the key and the fix: every NIC's MAC its own, proxies with an http(s) scheme, an SSH key
// pair given whole, a kubelet that cannot be promised more pods
// than its node's pod addresses, a snapshot schedule systemd can parse.
// Pure. Depends on: model, calendar.
import { DraftConfig, Problem, errorAt as err } from "./model";
import { isCalendarExpression } from "./calendar";


/** Pod addresses one node's /24 gives the kubelet: the network, the bridge's gateway and the broadcast address are not a pod's. */
export const POD_ADDRESSES_PER_NODE = 256 - 3;

export function settingsRules(c: DraftConfig): Problem[] {
  const out: Problem[] = [];
  const byMac = new Map<string, string>();
  for (const n of c.nodes) {
    const other = byMac.get(n.mac);
    if (other) out.push(err(`nodes[${n.index}]`, `node '${n.name}' would have MAC ${n.mac}, as '${other}' has (given or derived from the IP): libvirt's DHCP would give both one address`, "give the node its own mac=52:54:00:xx:xx:xx, or leave mac= out on both to derive each from its IP"));
    else byMac.set(n.mac, n.name);
  }
  for (const [key, url] of [["httpProxy", c.proxy?.http], ["httpsProxy", c.proxy?.https]] as const) {
    if (url !== undefined && !/^https?:\/\/[^/:]+/.test(url)) {
      out.push(err(key, `'${url}' is not an http:// or https:// proxy URL (curl, the package manager and containerd read it as one)`, `write it with its scheme, e.g. http://proxy.lab:3128`));
    }
  }
  if (c.ssh.publicKey !== undefined && !c.ssh.privateKeyGiven) {
    out.push(err("sshPublicKey", "is set without sshPrivateKey: the program would generate another key pair, and the nodes would hold a public key nobody can log in with", "set the matching private key too (pulumi config set --secret sshPrivateKey < KEYFILE), or unset sshPublicKey to let the program generate both"));
  }
  const perNode = c.addons.cni === "weave" ? undefined : POD_ADDRESSES_PER_NODE;
  if (perNode !== undefined && c.kubelet.maxPods > perNode) {
    out.push(err("kubeletMaxPods", `${c.kubelet.maxPods} is more pods than a node's /24 of the pod network holds (${perNode} addresses with ${c.addons.cni})`, `set kubeletMaxPods to ${perNode} or less`));
  }
  if (c.etcdSnapshots && !isCalendarExpression(c.etcdSnapshots.schedule)) {
    out.push(err("etcdSnapshotSchedule", `'${c.etcdSnapshots.schedule}' is not a systemd calendar expression`, "write one as systemd.time(7) describes, e.g. hourly, daily or '*-*-* 00/6:00:00' (check it with systemd-analyze calendar), or 'off'"));
  }
  return out;
}
