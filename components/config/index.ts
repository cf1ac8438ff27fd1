// Config layer: the typed cluster model (ClusterConfig), its schema, defaults and
// preflight, and the stack files as the engine hands them to the program. Pure: this barrel
// loads no Pulumi SDK, so every plan can import it; reading pulumi.Config is in
// config/stack.ts, which only the program (index.ts) imports.
// Depends on: zod, yaml, ipaddr.js.
export * from "./keys";
export * from "./model";
export * from "./raw";
export * from "./nodes";
export * from "./hypervisors";
export * from "./derive";
export * from "./network";
export * from "./preflight";
export * from "./settings-rules";
export * from "./calendar";
export * from "./stages";
export * from "./last-up";
export * from "./versions";
export * from "./image-archives";
export * from "./stack-file";
