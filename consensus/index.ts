export { Acceptor } from "./acceptor";
export { type CoreConfig, DEFAULT_CONFIG, quorumSize } from "./config";
export type { CoreEvent, Effects, ReadReady, SnapshotNeed } from "./effects";
export { InvariantViolation } from "./invariant";
export type * from "./messages";
export { type NodeStatus, PaxosNode, type StartState } from "./node";
export * from "./types";
