// The projections' public surface, for the replica and transport layers.
export * from "./btree";
export * from "./change-feed";
export * from "./digest";
export { setProjectionAutoFreeze } from "./immer";
export * from "./kv-projection";
export * from "./queries";
export * from "./records";
export * from "./replay";
export * from "./snapshot";
