import test from "ava";
import { runCli } from "../support/cli";

/**
 * `paxlog check --compose` refuses what the compose cluster cannot do, with a
 * usage error (exit 2) before it touches Docker: these need no Docker.
 */

const refused = [
  {
    args: ["--compose", "--nodes", "3"],
    says: /--nodes must be 5/,
  },
  {
    args: ["--compose-partition", "network", "--faults", "pause,partition-leader"],
    says: /--faults: partition-leader .* etcd/,
  },
  {
    args: ["--compose-partition", "cables"],
    says: /--compose-partition must be iptables or network/,
  },
  {
    args: ["--compose-running", "--snapshot-every", "20"],
    says: /--snapshot-every: with --compose-running the running cluster's own settings hold/,
  },
  {
    args: ["--compose", "--replica-node-args=--require x.js"],
    says: /--replica-node-args: the compose cluster's replicas run from the image/,
  },
];

for (const { args, says } of refused) {
  test(`check ${args.join(" ")}: a usage error`, async (t) => {
    const run = await runCli(["check", ...args, "--time", "1s"]);
    t.is(run.code, 2);
    t.regex(run.stderr.split("\n")[0]!, says);
  });
}
