// etcd layer: one member per etcd node and the cluster health gate the control plane waits
// on, planned in etcd/plan (rolling: a change restarts one member at a time, each healthy
// again before the next). Shipped by the cluster shipper. Depends on: etcd/plan.
export * from "./plan";
