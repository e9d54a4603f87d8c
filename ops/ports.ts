import { randomInt } from "node:crypto";
import fs from "node:fs";
import net from "node:net";

/**
 * Where free ports are drawn from, below the kernel's ephemeral range (on
 * Linux usually 32768 and up). The tests' blocks of consecutive ports
 * (test/support/procs.ts) come from 20000–32000, so the two never meet.
 */
const FROM = 10_000;
const TO = 20_000;

/** Ports this process handed out already: never twice, even once closed again. */
const handedOut = new Set<number>();

/**
 * A loopback TCP port that was free a moment ago, drawn at random from
 * FROM–TO when the kernel's ephemeral range lies above. A port the OS picks
 * for listen(0) comes from that range, and so does the local port of every
 * outgoing connection, so between the check and the caller's own bind a
 * connection made elsewhere could take it (parallel tests saw EADDRINUSE).
 */
export function freePort(): Promise<number> {
  const ephemeralLow = ephemeralRangeStart();
  return ephemeralLow !== null && ephemeralLow >= TO ? freePortIn(FROM, TO) : osPickedPort();
}

/** A free port drawn at random from [from, to); the OS's pick when 50 draws find none. */
export async function freePortIn(from: number, to: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = randomInt(from, to);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  return osPickedPort();
}

/** The first port of the kernel's ephemeral range, or null where it cannot be read. */
export function ephemeralRangeStart(): number | null {
  try {
    const [low] = fs
      .readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    return Number.isInteger(low) ? low! : null;
  } catch {
    return null;
  }
}

/** Whether `port` can be listened on at 127.0.0.1 right now (it is closed again at once). */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function osPickedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
