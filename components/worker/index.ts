// Worker layer: containerd, the kubelet, kube-proxy, the bridge pod network and the image
// archives on every node that runs pods, planned in worker/*. Shipped by the cluster
// shipper. Depends on: worker/plan, worker/pod-network, worker/images.
export * from "./plan";
export * from "./pod-network";
export * from "./images";
