/**
 * Micro-benchmark of the apply path (not a test). Prints applied commands/s
 * for puts over a 100k-key state, one produce per command and batched, with
 * immer autoFreeze on (the default) and off, then snapshot and codec figures.
 *   npx tsc -p . && node dist/ops/bench/apply-bench.js
 * Each put comes from one of 64 clients with its own requestId, so every
 * command also updates the exactly-once table (as in production).
 * The target (printed as TARGET): ≥ 100k puts/s batched 1000 per
 * produce with autoFreeze on. Runs in well under a minute.
 */
import {
  type Command,
  decodeBatch,
  decodeCommand,
  encodeBatch,
  encodeCommand,
  type LogIndex,
  put,
} from "../../domain";
import {
  applyBatch,
  createProjection,
  decodeSnapshot,
  digest,
  encodeSnapshot,
  type KvProjection,
  setProjectionAutoFreeze,
} from "../../projections";

const KEYS = 100_000;
const CLIENTS = 64;
let requestId = 0;
let index = 0;

function nextPut(n: number): Command {
  requestId++;
  // a multiplicative walk over the key space: every key, scattered order
  const k = (n * 7919) % KEYS;
  return put(
    `client-${requestId % CLIENTS}`,
    requestId,
    `key:${String(k).padStart(6, "0")}`,
    `value-${n}`,
  );
}

function preload(): KvProjection {
  let p = createProjection();
  for (let n = 0; n < KEYS; n += 1000) {
    const cmds: Command[] = [];
    for (let i = n; i < n + 1000; i++) cmds.push(nextPut(i));
    p = applyBatch(p, ++index as LogIndex, cmds).projection;
  }
  return p;
}

function run(p: KvProjection, total: number, batch: number): { p: KvProjection; rate: number } {
  const cmds: Command[] = [];
  for (let n = 0; n < total; n++) cmds.push(nextPut(n + 17));
  const t0 = performance.now();
  for (let n = 0; n < total; n += batch) {
    p = applyBatch(p, ++index as LogIndex, cmds.slice(n, n + batch)).projection;
  }
  const s = (performance.now() - t0) / 1000;
  return { p, rate: total / s };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

function main(): void {
  console.log(
    `node ${process.version}; ${KEYS.toLocaleString()} keys, ${CLIENTS} clients; NODE_ENV=${process.env.NODE_ENV ?? "(unset)"}`,
  );
  let p = preload();
  console.log(`preloaded: ${p.kv.size} keys, appliedIndex ${p.appliedIndex}`);
  const TARGET = 100_000;
  const plan: [string, boolean, number, number][] = [
    ["one by one (1 per produce)", true, 200_000, 1],
    ["batched 100 per produce", true, 1_000_000, 100],
    ["batched 1000 per produce", true, 1_000_000, 1000],
    ["one by one, autoFreeze off", false, 200_000, 1],
    ["batched 100, autoFreeze off", false, 300_000, 100],
    ["batched 1000, autoFreeze off", false, 300_000, 1000],
  ];
  for (const [label, freeze, total, batch] of plan) {
    setProjectionAutoFreeze(freeze);
    const r = run(p, total, batch);
    p = r.p;
    console.log(
      `${label.padEnd(30)} ${fmt(total).padStart(9)} puts  ${fmt(r.rate).padStart(9)} puts/s`,
    );
    if (freeze && batch === 1000) {
      console.log(
        `TARGET batched 1000/produce, autoFreeze on: ${fmt(r.rate)} puts/s (target ${fmt(TARGET)}) ${r.rate >= TARGET ? "MET" : "NOT MET"}`,
      );
    }
  }
  setProjectionAutoFreeze(true);

  // snapshot: taking one is holding the root (O(1)); encoding streams it
  let t0 = performance.now();
  const snap = p;
  const holdMs = performance.now() - t0;
  t0 = performance.now();
  let bytes = 0;
  const chunks: Uint8Array[] = [];
  for (const c of encodeSnapshot(snap)) {
    bytes += c.length;
    chunks.push(c);
  }
  const encS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const back = decodeSnapshot(chunks);
  const decS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const d = digest(snap);
  const digS = (performance.now() - t0) / 1000;
  if (!back.ok || digest(back.value) !== d) throw new Error("snapshot round trip failed");
  console.log(`snapshot take (hold the root)   ${holdMs.toFixed(4)} ms`);
  console.log(
    `snapshot encode                 ${(bytes / 1e6).toFixed(1)} MB in ${(encS * 1000).toFixed(0)} ms = ${(bytes / 1e6 / encS).toFixed(0)} MB/s (${chunks.length} chunks ≤ 1 MiB, sha256 included)`,
  );
  console.log(
    `snapshot decode + rebuild       ${(decS * 1000).toFixed(0)} ms = ${(bytes / 1e6 / decS).toFixed(0)} MB/s`,
  );
  console.log(`digest                          ${(digS * 1000).toFixed(0)} ms`);

  // codec: binary vs JSON on the same 100k commands
  const sample: Command[] = [];
  for (let n = 0; n < 100_000; n++) sample.push(nextPut(n));
  t0 = performance.now();
  const enc = sample.map(encodeCommand);
  const binEnc = performance.now() - t0;
  t0 = performance.now();
  for (const e of enc) if (!decodeCommand(e).ok) throw new Error("decode");
  const binDec = performance.now() - t0;
  const te = new TextEncoder();
  const td = new TextDecoder();
  t0 = performance.now();
  const jenc = sample.map((c) => te.encode(JSON.stringify(c)));
  const jsonEnc = performance.now() - t0;
  t0 = performance.now();
  for (const e of jenc) JSON.parse(td.decode(e));
  const jsonDec = performance.now() - t0;
  const binBytes = enc.reduce((n, e) => n + e.length, 0);
  const jsonBytes = jenc.reduce((n, e) => n + e.length, 0);
  t0 = performance.now();
  for (let n = 0; n < enc.length; n += 1000) decodeBatch(encodeBatch(enc.slice(n, n + 1000)));
  const batchMs = performance.now() - t0;
  console.log(
    `codec, 100k puts: binary enc ${binEnc.toFixed(0)} ms, dec ${binDec.toFixed(0)} ms, ${binBytes} B | JSON enc ${jsonEnc.toFixed(0)} ms, dec ${jsonDec.toFixed(0)} ms, ${jsonBytes} B | batch of 1000 concat+decode ${batchMs.toFixed(0)} ms total`,
  );
}

main();
