// The host step library (shipping side included): the step model and its scripts and
// triggers (host/plan), systemd units, key-file placement, the embedded shell helpers, the
// host step that ships a plan over SSH as one remote command (host/step), the record of the nodes the
// last `up` left running (host/established) and of the files it wrote (host/file-changes). The layers plan their own steps with it; the
// cluster shipper ships them all. Depends on: config, pki/material, host/*.
export * from "./plan";
export * from "./step";
export * from "./key-files";
export * from "./systemd";
export * from "./established";
export * from "./file-changes";
