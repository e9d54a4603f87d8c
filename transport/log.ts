/**
 * Minimal structured logger: one JSON object per line on stderr,
 * `{ts, level, node, msg, ...fields}`. The level filter comes from
 * `PAXLOG_LOG_LEVEL` (debug | info | warn | error | silent; default info).
 * No dependencies.
 */

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Returns true when a line of this level would be written. */
  enabled(level: Exclude<LogLevel, "silent">): boolean;
  /** A logger that adds `fields` to every line (child fields win over parent ones). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Node id written as `node` on every line (null when unknown). */
  node?: number | string | null;
  /** Overrides `PAXLOG_LOG_LEVEL`. */
  level?: LogLevel;
  /** Receives each line (no trailing newline). Default: write it to stderr. */
  sink?: (line: string) => void;
  /** Fields added to every line. */
  fields?: LogFields;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function parseLogLevel(value: string | undefined, fallback: LogLevel = "info"): LogLevel {
  const v = value?.trim().toLowerCase();
  return v !== undefined && v in RANK ? (v as LogLevel) : fallback;
}

/** Turns an Error (and its `cause` chain) into plain JSON-able data. */
export function errorFields(err: unknown): LogFields {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: LogFields = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out["code"] = code;
  if (err.cause !== undefined) out["cause"] = errorFields(err.cause);
  return out;
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return errorFields(value);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

const defaultSink = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

class JsonLogger implements Logger {
  constructor(
    readonly level: LogLevel,
    private readonly node: number | string | null,
    private readonly fields: LogFields,
    private readonly sink: (line: string) => void,
  ) {}

  enabled(level: Exclude<LogLevel, "silent">): boolean {
    return RANK[level] >= RANK[this.level];
  }

  debug(msg: string, fields?: LogFields): void {
    this.write("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.write("error", msg, fields);
  }

  child(fields: LogFields): Logger {
    const { node, ...rest } = fields;
    const childNode = node === undefined ? this.node : (node as number | string | null);
    return new JsonLogger(this.level, childNode, { ...this.fields, ...rest }, this.sink);
  }

  private write(level: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const record = {
      ts: new Date().toISOString(),
      level,
      node: this.node,
      msg,
      ...this.fields,
      ...fields,
    };
    let line: string;
    try {
      line = JSON.stringify(record, replacer);
    } catch {
      // circular or otherwise unserialisable fields: keep the message at least
      line = JSON.stringify({ ts: record.ts, level, node: this.node, msg, unserialisable: true });
    }
    try {
      this.sink(line);
    } catch {
      // a logger never throws into its caller
    }
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? parseLogLevel(process.env["PAXLOG_LOG_LEVEL"]);
  return new JsonLogger(
    level,
    options.node ?? null,
    options.fields ?? {},
    options.sink ?? defaultSink,
  );
}
