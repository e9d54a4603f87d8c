import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import test from "ava";
import { REPLICA_NODE_FLAGS } from "../../ops/replica-node-flags";

// Compiled to dist/test/unit: the repository root is three levels up.
const ROOT = path.resolve(__dirname, "../../..");

test("the Docker image starts its replica with the same node flags as the launchers", (t) => {
  const dockerfile = fs.readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile);
  t.truthy(entrypoint, "the Dockerfile has an exec-form ENTRYPOINT");
  const argv = JSON.parse(entrypoint![1]!) as string[];
  t.deepEqual(argv, ["node", ...REPLICA_NODE_FLAGS, "dist/ops/cli.js", "serve"]);
});

test("every replica node flag is one node accepts", (t) => {
  // A misspelt V8 flag makes node exit at start ("bad option"): check each here.
  for (const flag of REPLICA_NODE_FLAGS) {
    const run = spawnSync(process.execPath, [flag, "-e", "0"], { encoding: "utf8" });
    t.is(run.status, 0, `${flag}: ${run.stderr}`);
  }
});
