// Host layer: the host step (files + script over SSH, hash-triggered, undone on delete),
// its planning (host/plan) and the two steps every node gets first — node prep and
// artifact delivery. Other layers plan their own steps; the cluster shipper ships them all
// with HostStep. Depends on: config, pki/material, host/*.
export * from "./plan";
export * from "./step";
export * from "./key-files";
export * from "./systemd";
export * from "./established";
