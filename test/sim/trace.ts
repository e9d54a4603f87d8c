import { formatBallot, type Message, type Value } from "../../consensus";

type TraceItem =
  | { readonly tick: number; readonly kind: "deliver"; readonly message: Message }
  | { readonly tick: number; readonly kind: "note"; readonly text: string };

/**
 * The last events of a simulation, kept cheaply (references, no formatting)
 * and formatted only when a run fails, so that a failing seed reads as a story.
 */
export class Trace {
  private readonly items: TraceItem[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  deliver(tick: number, message: Message): void {
    this.push({ tick, kind: "deliver", message });
  }

  note(tick: number, text: string): void {
    this.push({ tick, kind: "note", text });
  }

  private push(item: TraceItem): void {
    if (this.items.length < this.size) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.size;
  }

  lines(): string[] {
    const ordered =
      this.items.length < this.size
        ? this.items
        : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
    return ordered.map((item) =>
      item.kind === "note"
        ? `t=${item.tick} ${item.text}`
        : `t=${item.tick} ${formatMessage(item.message)}`,
    );
  }
}

export function formatValue(v: Value): string {
  if (v.type === "noop") return "noop";
  const names = v.commands.map((c) => Buffer.from(c).toString());
  return `[${names.length <= 3 ? names.join(",") : `${names.slice(0, 3).join(",")},+${names.length - 3}`}]`;
}

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type}`;
  switch (m.type) {
    case "prepare":
      return `${head} b=${formatBallot(m.ballot)} from=${m.fromIndex}`;
    case "promise":
      return `${head} b=${formatBallot(m.ballot)} from=${m.fromIndex}${m.recovering ? " recovering" : ""} entries=${m.entries
        .map(
          (e) =>
            `${e.index}:${e.ballot ? formatBallot(e.ballot) : "chosen"}=${formatValue(e.value)}`,
        )
        .join(" ")}`;
    case "nack":
      return `${head} b=${formatBallot(m.ballot)} promised=${formatBallot(m.promised)}`;
    case "disposed":
      return `${head} index=${m.index} disposeBelow=${m.disposeBelow} snapshot=${m.snapshotIndex}`;
    case "accept":
      return `${head} b=${formatBallot(m.ballot)} i=${m.index} v=${formatValue(m.value)} horizon=${m.horizon} chosen=${m.chosenIndex}`;
    case "accepted":
      return `${head} b=${formatBallot(m.ballot)} i=${m.index}`;
    case "commit":
      return `${head} b=${formatBallot(m.ballot)} chosen=${m.chosenIndex} dispose=${m.disposeBelow} horizon=${m.horizon}${m.heartbeat ? " hb" : ""}`;
    case "learned":
      return `${head} inc=${m.incarnation} learned=${m.learnedIndex} promised=${formatBallot(m.promised)}${m.recovering ? " recovering" : ""}`;
    case "catchup":
      return `${head} [${m.fromIndex}, ${m.toIndex}]`;
    case "catchup-reply":
      return `${head} entries=${m.entries.length ? `${m.entries[0]!.index}..${m.entries[m.entries.length - 1]!.index}` : "none"} snapshot=${m.snapshotIndex} chosen=${m.chosenIndex}`;
  }
}
