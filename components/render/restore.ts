// The runbook's last part: restoring etcd from one member's snapshot, step by step, with
// this cluster's member names, peer URLs and paths. Pure. Depends on: config, etcd, node-prep.
import { ClusterConfig, nodesWith } from "../config";
import { ETCD_DATA_DIR, ETCD_SNAPSHOT_DIR, PEER_PORT, etcdClientUrls, etcdctl, initialCluster } from "../etcd/plan";
import { BIN_DIR } from "../node-prep/artifacts";

/** Restoring the cluster from one member's snapshot, step by step, for this cluster's names and paths. */
export function restoreRunbook(c: ClusterConfig): string[] {
  const members = nodesWith(c, "etcd");
  const controlPlane = nodesWith(c, "control-plane").map((n) => n.name).join(", ");
  return [
    `1. Pick one snapshot, e.g. the newest on ${members[0].name}: \`ls -t ${ETCD_SNAPSHOT_DIR}/*.db | head -1\`, and copy it to every member (${members.map((m) => m.name).join(", ")}) as \`/root/restore.db\`.`,
    `2. Stop the apiservers on ${controlPlane}: \`systemctl stop kube-apiserver\`; then etcd on every member: \`systemctl stop etcd\`.`,
    "3. On each member, restore into a new data directory with its own name and peer URL:",
    "",
    ...members.map((m) => `   - ${m.name}: \`${BIN_DIR}/etcdutl snapshot restore /root/restore.db --name ${m.name} --initial-cluster ${initialCluster(c)} --initial-cluster-token ${c.name}-etcd --initial-advertise-peer-urls https://${m.ip}:${PEER_PORT} --data-dir ${ETCD_DATA_DIR}.restored\``),
    "",
    `4. On each member: \`mv ${ETCD_DATA_DIR} ${ETCD_DATA_DIR}.old && mv ${ETCD_DATA_DIR}.restored ${ETCD_DATA_DIR} && systemctl start etcd\` (start all members within a minute: they need a quorum).`,
    `5. Check: \`${etcdctl(etcdClientUrls(c).join(","))} endpoint health --cluster\`; then \`systemctl start kube-apiserver\` on ${controlPlane}.`,
  ];
}
