// What the stack's previous `up` left: the nodes that run the cluster (its
// `establishedNodes` output) and what it recorded of etcd's members, the control-plane
// nodes and the Kubernetes version (`lastUp`), read through a reference to this very
// stack. On the first `up` nothing runs, so every node's layers are created in parallel;
// once a node is established, a change to a rolled layer restarts it one node at a time.
// Also the host steps' files it wrote (`hostFiles`), for the preview to say what changes in them.
// Depends on: config (LastUp), host/file-changes, @pulumi/pulumi.
import * as pulumi from "@pulumi/pulumi";
import { LAST_UP_OUTPUT, LastUp, parseLastUp } from "../config/last-up";
import { FileRecord, HOST_FILES_OUTPUT, decodeRecord } from "./file-changes";

/** The stack output that records the established nodes. */
export const ESTABLISHED_OUTPUT = "establishedNodes";

export interface PreviousUp {
  /** The nodes the previous successful `up` left running (empty on the first). */
  established: ReadonlySet<string>;
  /** What it recorded; undefined on a first `up` or for a stack from before the record. */
  lastUp?: LastUp;
  /** The host steps' files it wrote (undefined on a first `up` or for a stack from before the record). */
  hostFiles?: FileRecord;
}

/** Reads the previous `up`'s outputs of this stack. */
export async function previousUp(): Promise<PreviousUp> {
  const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const previous = new pulumi.StackReference("previous-up", { name: self });
  const read = async (name: string) => {
    const details = await previous.getOutputDetails(name);
    return details.value ?? details.secretValue;
  };
  const value = await read(ESTABLISHED_OUTPUT);
  const established = new Set(Array.isArray(value) ? value.filter((x): x is string => typeof x === "string") : []);
  return { established, lastUp: parseLastUp(await read(LAST_UP_OUTPUT)), hostFiles: decodeRecord(await read(HOST_FILES_OUTPUT)) };
}
