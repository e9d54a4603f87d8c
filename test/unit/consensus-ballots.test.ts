import test from "ava";
import { quorumSize } from "../../consensus/config";
import {
  ballotEquals,
  ballotLess,
  compareBallots,
  FENCE_NODE,
  fenceBallot,
  NO_BALLOT,
} from "../../consensus/types";
import { ballot } from "../support/consensus-harness";

test("ballots order by round first, then by node id", (t) => {
  t.true(ballotLess(ballot(1, 9), ballot(2, 1)), "a higher round wins over a higher node id");
  t.true(ballotLess(ballot(3, 1), ballot(3, 2)), "same round: the higher node id is higher");
  t.false(ballotLess(ballot(3, 2), ballot(3, 2)));
  t.is(compareBallots(ballot(3, 2), ballot(3, 2)), 0);
  t.true(ballotEquals(ballot(3, 2), { round: 3, nodeId: 2 }));
  t.true(compareBallots(ballot(4, 1), ballot(3, 5)) > 0);
  t.true(ballotLess(NO_BALLOT, ballot(1, 1)), "NO_BALLOT is below every real ballot");
  const sorted = [ballot(2, 1), ballot(1, 3), ballot(2, 0), ballot(1, 1)].sort(compareBallots);
  t.deepEqual(sorted, [ballot(1, 1), ballot(1, 3), ballot(2, 0), ballot(2, 1)]);
});

test("the fence ballot of round R is above every ballot of round R and below every ballot of round R+1", (t) => {
  for (const r of [1, 2, 7, 1000]) {
    const fence = fenceBallot(r);
    t.deepEqual(fence, { round: r, nodeId: FENCE_NODE });
    for (const node of [0, 1, 2, 9, 1_000_000]) {
      t.true(ballotLess(ballot(r, node), fence), `(${r},${node}) < fence(${r})`);
      t.true(ballotLess(ballot(r - 1, node), fence), `(${r - 1},${node}) < fence(${r})`);
      t.true(ballotLess(fence, ballot(r + 1, node)), `fence(${r}) < (${r + 1},${node})`);
    }
  }
});

test("the fence ballot of round 0 is NO_BALLOT (nothing to fence)", (t) => {
  t.deepEqual(fenceBallot(0), NO_BALLOT);
});

test("quorum size is floor(n/2)+1 for n = 1..9", (t) => {
  const expected = [1, 2, 2, 3, 3, 4, 4, 5, 5];
  t.deepEqual(
    expected.map((_, i) => quorumSize(i + 1)),
    expected,
  );
  // Any two quorums intersect.
  for (let n = 1; n <= 9; n++) t.true(2 * quorumSize(n) > n, `n=${n}`);
});
