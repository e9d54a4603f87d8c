import net from "node:net";
import test from "ava";
import { ephemeralRangeStart, freePort, freePortIn } from "../../ops/ports";

test("free ports are distinct, bindable and, where the kernel says, below its ephemeral range", async (t) => {
  const ports: number[] = [];
  for (let i = 0; i < 30; i++) ports.push(await freePort());
  t.is(new Set(ports).size, ports.length, "never the same port twice");
  const low = ephemeralRangeStart();
  if (low !== null) for (const port of ports) t.true(port < low, `${port} below ${low}`);
  // Each can really be listened on.
  for (const port of ports.slice(0, 5)) {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test("a port someone listens on is not handed out: with none free in the range, the OS picks", async (t) => {
  const server = net.createServer();
  t.teardown(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const taken = (server.address() as net.AddressInfo).port;
  // The range holds only the taken port: every draw fails, and the OS's pick is something else.
  const port = await freePortIn(taken, taken + 1);
  t.not(port, taken);
  t.true(port > 0);
});
