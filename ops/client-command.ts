import { parseArgs } from "node:util";
import { UsageError } from "./usage-error";

export const CLIENT_COMMANDS = [
  "put",
  "get",
  "del",
  "cas",
  "incr",
  "append",
  "keys",
  "range",
  "status",
  "digest",
  "replay",
];

export const CLIENT_HELP = `paxlog client commands (JSON on stdout)

  paxlog put KEY VALUE
  paxlog get KEY [--sequential]
  paxlog del KEY
  paxlog cas KEY EXPECTED VALUE      (or: paxlog cas KEY --absent VALUE)
  paxlog incr KEY [BY]
  paxlog append KEY SUFFIX
  paxlog keys [PREFIX] [--limit N]
  paxlog range START [END] [--limit N]
  paxlog status
  paxlog digest     every endpoint's state digest and applied index (equal digests at
                    equal indexes mean equal states)
  paxlog replay     on every endpoint: rebuild the state from the latest snapshot plus
                    the retained log and compare its digest with the live state

Options:
  --endpoints URLS   replicas to try in turn, comma-separated
                     (default http://127.0.0.1:8081,...,8085; env PAXLOG_ENDPOINTS)
  --sequential       read from the replica's local state (sequentially consistent)

A replica that cannot be reached, or answers 503, is skipped for the next one.
Exit code: 0 on 2xx, 1 on an error answer, 3 when no replica answered.
digest and replay ask every endpoint and print one JSON line each; they exit 1
if any replica fails or (replay) does not match.`;

interface Call {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
}

function buildCall(
  command: string,
  args: string[],
  flags: { sequential: boolean; absent: boolean; limit?: string },
): Call {
  const need = (n: number) => {
    if (args.length < n) throw new UsageError(`${command} needs ${n} argument(s)`);
  };
  const key = () => encodeURIComponent(args[0]!);
  const consistency = flags.sequential ? "sequential" : "linearizable";
  const limit = flags.limit ? `&limit=${encodeURIComponent(flags.limit)}` : "";
  switch (command) {
    case "put":
      need(2);
      return { method: "PUT", path: `/v1/kv/${key()}`, body: { value: args[1] } };
    case "get":
      need(1);
      return { method: "GET", path: `/v1/kv/${key()}?consistency=${consistency}` };
    case "del":
      need(1);
      return { method: "DELETE", path: `/v1/kv/${key()}` };
    case "cas":
      if (flags.absent) {
        need(2);
        return {
          method: "POST",
          path: `/v1/kv/${key()}/cas`,
          body: { expected: null, value: args[1] },
        };
      }
      need(3);
      return {
        method: "POST",
        path: `/v1/kv/${key()}/cas`,
        body: { expected: args[1], value: args[2] },
      };
    case "incr": {
      need(1);
      const by = args[1] === undefined ? 1 : Number(args[1]);
      if (!Number.isSafeInteger(by)) throw new UsageError("BY must be an integer");
      return { method: "POST", path: `/v1/kv/${key()}/incr`, body: { by } };
    }
    case "append":
      need(2);
      return { method: "POST", path: `/v1/kv/${key()}/append`, body: { value: args[1] } };
    case "keys":
      return {
        method: "GET",
        path: `/v1/keys?prefix=${encodeURIComponent(args[0] ?? "")}${limit}`,
      };
    case "range": {
      need(1);
      const end = args[1] === undefined ? "" : `&end=${encodeURIComponent(args[1])}`;
      return {
        method: "GET",
        path: `/v1/kv?start=${encodeURIComponent(args[0]!)}${end}&consistency=${consistency}${limit}`,
      };
    }
    case "status":
      return { method: "GET", path: "/v1/cluster" };
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

export async function clientCommand(command: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      endpoints: { type: "string" },
      sequential: { type: "boolean", default: false },
      absent: { type: "boolean", default: false },
      limit: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(CLIENT_HELP);
    return 0;
  }
  const endpoints = (values.endpoints ?? process.env["PAXLOG_ENDPOINTS"] ?? defaultEndpoints())
    .split(",")
    .map((e) => e.trim().replace(/\/$/, ""))
    .filter(Boolean);
  if (command === "digest" || command === "replay") return everyReplica(command, endpoints);
  const call = buildCall(command, positionals, {
    sequential: values.sequential ?? false,
    absent: values.absent ?? false,
    ...(values.limit ? { limit: values.limit } : {}),
  });
  const failures: string[] = [];
  for (const endpoint of endpoints) {
    try {
      const response = await fetch(endpoint + call.path, {
        method: call.method,
        headers: { "content-type": "application/json" },
        signal: AbortSignal.timeout(10_000),
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      });
      const text = await response.text();
      if (response.status === 503) {
        failures.push(`${endpoint}: 503 ${text}`);
        continue;
      }
      console.log(text);
      return response.ok ? 0 : 1;
    } catch (error) {
      failures.push(`${endpoint}: ${(error as Error).message}`);
    }
  }
  console.error(`no replica answered:\n  ${failures.join("\n  ")}`);
  return 3;
}

/** digest / replay: one answer per replica, not the first that answers. */
async function everyReplica(command: "digest" | "replay", endpoints: string[]): Promise<number> {
  let failed = false;
  for (const endpoint of endpoints) {
    try {
      const response = await fetch(`${endpoint}/v1/admin/${command}`, {
        method: command === "replay" ? "POST" : "GET",
        signal: AbortSignal.timeout(60_000),
      });
      const body = (await response.json()) as Record<string, unknown>;
      if (!response.ok) failed = true;
      console.log(JSON.stringify({ endpoint, status: response.status, ...body }));
    } catch (error) {
      failed = true;
      console.log(JSON.stringify({ endpoint, error: (error as Error).message }));
    }
  }
  return failed ? 1 : 0;
}

function defaultEndpoints(): string {
  return Array.from({ length: 5 }, (_, i) => `http://127.0.0.1:${8081 + i}`).join(",");
}
