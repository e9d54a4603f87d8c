import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { checkHistoryFile, renderTimelineSvg, serializeHistory } from "../../ops/check";
import { checkLinearizability } from "../../ops/check/linearizability";
import { renderViolation } from "../../ops/check/report";
import { hb, UNKNOWN } from "./check-fixtures";

const stale = () =>
  hb()
    .put("c1", 0, 10, "x", "1")
    .cas("c3", 5, 0, "x", "1", "2", UNKNOWN)
    .get("c2", 20, 30, "x", null).entries;

test("the violation timeline lists every op with client, times, op, result and the prefix", (t) => {
  const v = checkLinearizability(stale()).violation!;
  const text = renderViolation(v);
  t.regex(text, /NOT LINEARIZABLE on key\(s\) x: 3 of 3 ops/);
  t.regex(text, /\*\s+#0\s+c1\s+0\s+10\s+\[-+\]\s+put\(x, "1"\)\s+ok/);
  t.regex(text, /#1\s+c3\s+5\s+∞\s+.*-->\s+cas\(x, "1" -> "2"\)\s+unknown/);
  t.regex(text, /#2\s+c2\s+20\s+30\s+.*get\(x\)\s+null/);
  t.regex(text, /longest linearizable prefix found \(2 of 3 ops/);
  t.regex(text, /1\. #0 c1 put\(x, "1"\) -> ok\n {2}2\. #1 c3 cas/);
});

test("the SVG timeline draws one bar per op, unknown ones dashed", (t) => {
  const svg = renderTimelineSvg(stale(), new Set([0]), "x <stale>");
  t.true(svg.startsWith("<svg"));
  t.is(svg.match(/<rect /g)?.length, 3);
  t.is(svg.match(/stroke-dasharray/g)?.length, 1);
  t.true(svg.includes("x &lt;stale&gt;"));
  t.true(svg.includes("#b7e4c7")); // the linearized op
});

test("checkHistoryFile reads JSON lines and sets the exit code", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "paxlog-check-"));
  const bad = join(dir, "bad.jsonl");
  await writeFile(bad, serializeHistory(stale()));
  const r = await checkHistoryFile(bad);
  t.is(r.exitCode, 1);
  t.is(r.linearizability.verdict, "violation");
  t.regex(r.report, /NOT LINEARIZABLE/);

  const good = join(dir, "good.jsonl");
  await writeFile(
    good,
    serializeHistory(hb().put("c1", 0, 1, "x", "1", 1).get("c1", 2, 3, "x", "1", 1).entries),
  );
  const ok = await checkHistoryFile(good);
  t.is(ok.exitCode, 0);
  t.regex(ok.report, /linearizability: ok/);
  t.regex(ok.report, /sequential sessions: ok/);

  const seqBad = join(dir, "seq.jsonl");
  await writeFile(
    seqBad,
    serializeHistory(hb().put("c1", 0, 1, "x", "1", 5).seqGet("c1", 2, 3, "x", null, 2).entries),
  );
  const s = await checkHistoryFile(seqBad);
  t.is(s.linearizability.verdict, "ok");
  t.is(s.exitCode, 1);
  t.regex(s.report, /missed-own-write/);
});
