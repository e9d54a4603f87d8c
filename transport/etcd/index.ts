/** Public API of the etcd coordination adapter. */

export { Coordinator, type CoordinatorEvents, type CoordinatorOptions } from "./coordinator";
export { CoordinationError, CoordinatorStoppedError } from "./errors";
export type { EtcdHealth } from "./health";
export { type KeyLayout, keyLayout } from "./keys";
export type { MemberInfo, MemberMap } from "./membership";
