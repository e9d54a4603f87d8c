/** The benchmark's three etcd clients against a real one-member etcd: all write and read the same store. */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { Etcd3 } from "etcd3";
import { EtcdDriver, EtcdGatewayDriver, EtcdGrpcDriver } from "../../ops/bench/drivers";
import { EtcdGrpcSession, GrpcStatusError } from "../../ops/bench/etcd-grpc";
import { etcdLeaderIndex, startEtcdCluster } from "../../ops/bench/launch";

test("the gRPC, gateway and etcd3 drivers: a put through one is read through another; failures reject", async (t) => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "paxlog-bench-drivers-"));
  t.teardown(() => fs.rmSync(logDir, { recursive: true, force: true }));
  const etcd = await startEtcdCluster(1, logDir, "drivers");
  t.teardown(() => etcd.stop());
  const gateway = new EtcdGatewayDriver(etcd.endpoints);
  const etcd3 = new EtcdDriver(etcd.endpoints);
  const grpc = new EtcdGrpcDriver(etcd.endpoints);
  const check = new Etcd3({ hosts: etcd.endpoints[0]! });
  t.teardown(() => {
    gateway.close();
    etcd3.close();
    grpc.close();
    check.close();
  });

  // The only member leads; an unreachable endpoint is not taken for a leader.
  t.is(await etcdLeaderIndex(etcd.endpoints), 0);
  t.is(await etcdLeaderIndex(["http://127.0.0.1:1"]), null);

  await gateway.target(0).run("put", "key-1", "written through the gateway");
  t.is(await check.get("key-1").string(), "written through the gateway");
  await etcd3.target(0).run("put", "key-2", "written through etcd3");
  t.is(await check.get("key-2").string(), "written through etcd3");
  // Values longer than 127 bytes take a two-byte length in the hand-framed request.
  const long = "v".repeat(300);
  await grpc.target(0).run("put", "key-4", long);
  t.is(await check.get("key-4").string(), long);
  // Clients on one member share its session: concurrent calls all land.
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => grpc.target(i).run("put", `many-${i}`, `v${i}`)),
  );
  t.is((await check.getAll().prefix("many-").keys()).length, 20);
  // Reads of present and absent keys succeed on every path and both consistencies.
  for (const driver of [gateway, etcd3, grpc])
    for (const op of ["get", "sget"] as const)
      for (const key of ["key-1", "key-2", "absent"]) await driver.target(1).run(op, key, "");

  // A member that is gone makes the gateway driver reject, not hang or pass.
  const unreachable = new EtcdGatewayDriver(["http://127.0.0.1:1"]);
  t.teardown(() => unreachable.close());
  await t.throwsAsync(unreachable.target(0).run("put", "key-3", "v"));
  const unreachableGrpc = new EtcdGrpcDriver(["http://127.0.0.1:1"]);
  t.teardown(() => unreachableGrpc.close());
  await t.throwsAsync(unreachableGrpc.target(0).run("put", "key-3", "v"));

  // A status other than OK rejects with it: a request etcd cannot parse (InvalidArgument or
  // Internal), here a message whose length prefix claims more bytes than follow.
  const session = new EtcdGrpcSession(etcd.endpoints[0]!);
  t.teardown(() => session.close());
  const bad = Buffer.from([0, 0, 0, 0, 3, 0x0a, 0x05, 0x61]);
  const error = await t.throwsAsync(session.call("Put", bad));
  t.true(error instanceof GrpcStatusError, String(error));
});
