import test from "ava";
import { MUTATIONS } from "./mutations";
import { describeFailure } from "./seeds";
import { runSeed } from "./simulation";

test("a seed replays exactly", (t) => {
  const a = runSeed({ seed: 4242, replicas: 5 });
  const b = runSeed({ seed: 4242, replicas: 5 });
  t.is(a.steps, b.steps);
  t.is(a.chosen, b.chosen);
  t.deepEqual(a.trace, b.trace);
  t.deepEqual(a.history, b.history);
  t.not(runSeed({ seed: 4243, replicas: 5 }).steps, a.steps);
});

test("seeds really exercise crashes, snapshots, client commands and reads", (t) => {
  let crashes = 0;
  let commands = 0;
  let reads = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const r = runSeed({ seed, replicas: 3 });
    crashes += r.crashes;
    commands += r.commandsChosen;
    reads += r.readsServed;
  }
  t.true(crashes >= 20, `crashes: ${crashes}`);
  t.true(commands >= 40 * 20, `commands chosen: ${commands}`);
  t.true(reads >= 40 * 20, `reads served: ${reads}`);
});

test("clients' histories are checked at the end of every run, and are not trivial", (t) => {
  let ops = 0;
  let reads = 0;
  let large = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const r = runSeed({ seed, replicas: 3 });
    t.deepEqual(r.violations, [], describeFailure(r));
    t.truthy(r.history, `seed ${seed}: history checked`);
    const h = r.history!;
    t.true(
      h.partitions >= 2 && h.partitionsOk === h.partitions,
      `seed ${seed}: ${h.partitionsOk}/${h.partitions} ok`,
    );
    ops += h.ops;
    reads += h.reads;
    if (h.ops > 200) large++;
  }
  t.log(`ops checked: ${ops}, of which reads: ${reads}; seeds with > 200 ops: ${large}`);
  t.true(ops >= 40 * 100, `ops checked: ${ops}`);
  t.true(reads >= 40 * 20, `reads checked: ${reads}`);
  t.true(large >= 5, `seeds with > 200 ops: ${large}`);
});

test("without crashes a run still converges and chooses every command", (t) => {
  const r = runSeed({ seed: 7, replicas: 5, crashes: false });
  t.deepEqual(r.violations, []);
  t.is(r.crashes, 0);
  t.true(r.commandsChosen > 0);
});

/** Seeds 1..count, each with 3 and then 5 replicas (some bugs show with one size only). */
function* seedsAndSizes(count: number): Generator<{ seed: number; replicas: number }> {
  for (let seed = 1; seed <= count; seed++) {
    yield { seed, replicas: 3 };
    yield { seed, replicas: 5 };
  }
}

// Each deliberately broken rule must be caught by some seed: the simulator is
// only as good as the bugs it can find. The slowest to show is
// read-without-confirmation, and only through a read that reaches a deposed
// leader still leading: since reads also go to replicas that believe they
// lead though etcd named another, it is first found by seed 190 (3 replicas;
// by the history check alone too), then 2901 (3) and 1468 (5) in 1..3000;
// before, by 1468 (5) alone. A seed's scenario depends on the simulator's
// code: when it changes, search again before narrowing this range.
for (const [name, mutation] of Object.entries(MUTATIONS)) {
  test(`the simulator catches a broken rule: ${name} (${mutation.rule})`, (t) => {
    for (const { seed, replicas } of seedsAndSizes(3000)) {
      const result = runSeed({ seed, replicas, createNode: mutation.createNode });
      if (result.violations.length > 0) {
        t.log(
          `found by seed ${seed}: ${result.violations[0]!.kind}: ${result.violations[0]!.detail}`,
        );
        t.regex(
          result.violations[0]!.kind,
          /agreement|broken-promise|validity|apply-order|core-invariant|stale-read/,
        );
        return;
      }
    }
    t.fail("no seed in 1..3000 (3 or 5 replicas) found the bug");
  });
}

// The history check on its own (the direct read-index check off) must catch
// the broken read rules too: a stale read index shows as a read of an old value
// once it misses a write to its key (seeds whose stale read missed only other
// keys, duplicates or no-ops pass it, rightly).
for (const name of [
  "read-without-confirmation",
  "read-index-without-horizon",
  "read-index-below-proposed",
]) {
  test(`the history check alone catches a broken read rule: ${name}`, (t) => {
    for (const { seed, replicas } of seedsAndSizes(3000)) {
      const result = runSeed({
        seed,
        replicas,
        createNode: MUTATIONS[name]!.createNode,
        checkReadIndex: false,
      });
      if (result.violations.length > 0) {
        t.log(`found by seed ${seed}: ${result.violations[0]!.detail}`);
        t.deepEqual(
          result.violations.map((v) => v.kind),
          ["not-linearizable"],
        );
        t.regex(result.violations[0]!.detail, /^key\(s\) k\d: \d+ of \d+ ops/);
        t.regex(result.history?.report ?? "", /the last \d+ of \d+ ops/);
        return;
      }
    }
    t.fail("no seed in 1..3000 (3 or 5 replicas) found the bug through the history");
  });
}

/**
 * Seeds that once failed, kept as named regressions. A seed's scenario depends
 * on the simulator's code: when the simulator changes how it draws, re-derive
 * the seed (revert the fix, search again) rather than deleting the test.
 */
const LEARNED_REPROPOSED =
  "Phase 1 re-proposed a learned value; the instance was resent after disposal";
const PROMISE_BELOW_SNAPSHOT =
  "a replica that learned by catch-up and compacted promised a Prepare from below its snapshot";

const REGRESSIONS: readonly { seed: number; replicas: number; bug: string }[] = [
  // Re-derived after the simulated snapshot transfers began reporting a
  // transfer that installs nothing (as the replica's driver does): each fails
  // with its fix reverted in a copy of the build (leader.js: Phase 1 skips
  // learned indexes; node.js: a Prepare from at or below the snapshot index
  // is refused). The seeds before them (48, 82, 98; 550, 891, 1221) no
  // longer failed with the fixes reverted, under the previous simulator too.
  { seed: 17, replicas: 3, bug: LEARNED_REPROPOSED },
  { seed: 94, replicas: 3, bug: LEARNED_REPROPOSED },
  { seed: 110, replicas: 3, bug: LEARNED_REPROPOSED },
  { seed: 242, replicas: 3, bug: PROMISE_BELOW_SNAPSHOT },
  { seed: 246, replicas: 3, bug: PROMISE_BELOW_SNAPSHOT },
  { seed: 537, replicas: 3, bug: PROMISE_BELOW_SNAPSHOT },
];

for (const { seed, replicas, bug } of REGRESSIONS) {
  test(`regression: seed ${seed} (${bug})`, (t) => {
    // Derived before simulated clients read: without reads, each seed replays its scenario.
    const result = runSeed({ seed, replicas, reads: false });
    t.deepEqual(result.violations, [], describeFailure(result));
  });
}
