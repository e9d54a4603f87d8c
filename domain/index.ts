// The domain's public surface, for the layers above (projections, transport, replica).
export * from "./bytes";
export * from "./codec";
export * from "./commands";
export * from "./decider";
export * from "./either";
export * from "./errors";
export * from "./events";
export * from "./int64";
export * from "./limits";
export * from "./result-codec";
export * from "./results";
export * from "./state";
export * from "./types";
export * from "./utf8";
export * from "./validation";
