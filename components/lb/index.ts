// lb layer: kube-nginx, the local layer-4 proxy to every kube-apiserver on each node,
// planned in lb/plan. Shipped by the cluster shipper. Depends on: lb/plan.
export * from "./plan";
