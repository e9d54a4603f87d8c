/**
 * Node flags every replica process starts with: `paxlog cluster up`, `bench`
 * and `check` put them before the script, and the Docker image's entrypoint
 * repeats them (test/unit/replica-node-flags.test.ts keeps the two equal).
 *
 * --initial-old-space-size=256: a replica under load retains tens of MB of
 * log (kept until every live member has learned it and a snapshot lets it
 * compact), and V8, sized for a small heap, then ran a major GC on the leader
 * every 1.4 s: about 30 ms of marking steps and a pause of 3-16 ms on its
 * main thread each time, plus marking threads competing for the same cores,
 * while every client waited on the leader. Starting the old generation larger
 * spaced them to every 3-4 s, at the cost of heaps that reach 50-66 MB
 * before one instead of 38-48. Puts with 5 replicas and 64 clients: +5.5%
 * (geometric mean of 36 alternating rounds of two clusters, 2026-12-01).
 */
export const REPLICA_NODE_FLAGS: readonly string[] = ["--initial-old-space-size=256"];
