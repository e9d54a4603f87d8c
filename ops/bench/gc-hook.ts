/**
 * Preloaded into the replicas `paxlog measure` starts (node --expose-gc
 * --require this file): SIGUSR2 forces a full garbage collection, so heapUsed
 * sampled afterwards is the live heap rather than live heap plus garbage.
 */
const forceGc = (globalThis as { gc?: () => void }).gc;
process.on("SIGUSR2", () => forceGc?.());

export {};
