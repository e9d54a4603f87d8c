/** The benchmark's two etcd clients against a real one-member etcd: both write and read the same store. */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { Etcd3 } from "etcd3";
import { EtcdDriver, EtcdGatewayDriver } from "../../ops/bench/drivers";
import { etcdLeaderIndex, startEtcdCluster } from "../../ops/bench/launch";

test("the gateway and etcd3 drivers: a put through one is read through the other; failures reject", async (t) => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "paxlog-bench-drivers-"));
  t.teardown(() => fs.rmSync(logDir, { recursive: true, force: true }));
  const etcd = await startEtcdCluster(1, logDir, "drivers");
  t.teardown(() => etcd.stop());
  const gateway = new EtcdGatewayDriver(etcd.endpoints);
  const grpc = new EtcdDriver(etcd.endpoints);
  const check = new Etcd3({ hosts: etcd.endpoints[0]! });
  t.teardown(() => {
    gateway.close();
    grpc.close();
    check.close();
  });

  // The only member leads; an unreachable endpoint is not taken for a leader.
  t.is(await etcdLeaderIndex(etcd.endpoints), 0);
  t.is(await etcdLeaderIndex(["http://127.0.0.1:1"]), null);

  await gateway.target(0).run("put", "key-1", "written through the gateway");
  t.is(await check.get("key-1").string(), "written through the gateway");
  await grpc.target(0).run("put", "key-2", "written through etcd3");
  t.is(await check.get("key-2").string(), "written through etcd3");
  // Reads of present and absent keys succeed on both paths and both consistencies.
  for (const driver of [gateway, grpc])
    for (const op of ["get", "sget"] as const)
      for (const key of ["key-1", "key-2", "absent"]) await driver.target(1).run(op, key, "");

  // A member that is gone makes the gateway driver reject, not hang or pass.
  const unreachable = new EtcdGatewayDriver(["http://127.0.0.1:1"]);
  t.teardown(() => unreachable.close());
  await t.throwsAsync(unreachable.target(0).run("put", "key-3", "v"));
});
