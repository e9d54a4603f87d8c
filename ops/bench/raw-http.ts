import net from "node:net";

const EMPTY = Buffer.alloc(0);

interface InFlight {
  resolve: (status: number) => void;
  reject: (error: Error) => void;
}

/**
 * The benchmark's cheapest HTTP/1.1 client: one keep-alive connection,
 * each request written as one string and each answer parsed only as far as
 * its status and its Content-Length body. On this kind of machine a request
 * costs the generator well under half the CPU of undici's Pool, and every
 * microsecond the generator spends is one the replicas sharing its cores
 * do not get. It speaks just enough HTTP for paxlog's answers (always
 * Content-Length framed) and fails loudly on anything else.
 *
 * Requests may be pipelined (RFC 9112 §9.3.2): several closed-loop clients
 * can share one connection, and the answers, which an HTTP/1.1 server sends
 * in request order, settle the requests in that order. The requests made in
 * one turn of the event loop leave in one write, so clients answered by one
 * read of the socket send their next requests together, much as an HTTP/2
 * session carries many streams per send. Pipeline only requests that may be
 * repeated (GET, PUT): if the connection fails, every request in flight
 * fails with it, and the server may have carried out any of them.
 */
export class RawHttpConnection {
  private socket: net.Socket | null = null;
  private buffered: Buffer = EMPTY;
  /** The requests sent and not yet answered, oldest first. */
  private inFlight: InFlight[] = [];
  /** Requests made in this turn, written together at its end. */
  private unsent: string[] = [];
  /**
   * One timer per connection (cheaper than one made and cleared per
   * request). It is re-armed when a request leaves an idle connection and
   * whenever an answer arrives, so it fires when requests are in flight and
   * the server has answered none of them for `timeoutMs`. Firing with
   * nothing in flight does nothing.
   */
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Number of requests sent or queued and not yet answered. */
  get pending(): number {
    return this.inFlight.length;
  }

  /** Sends one request and resolves with the answer's status once its body has arrived. */
  request(method: string, path: string, body?: string, contentType?: string): Promise<number> {
    const head =
      body === undefined
        ? `${method} ${path} HTTP/1.1\r\nhost: ${this.host}\r\n\r\n`
        : `${method} ${path} HTTP/1.1\r\nhost: ${this.host}\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return new Promise((resolve, reject) => {
      if (this.inFlight.length === 0) this.armTimer();
      this.inFlight.push({ resolve, reject });
      if (this.unsent.push(head) === 1) process.nextTick(this.flush);
    });
  }

  close(): void {
    this.fail(new Error("connection closed"));
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Writes this turn's requests. A nextTick runs after the promise
   * continuations of the turn, so the clients that one read answered have
   * all made their next requests by then.
   */
  private readonly flush = (): void => {
    const unsent = this.unsent;
    this.unsent = [];
    // close() may have failed these requests in the meantime.
    if (unsent.length === 0) return;
    const socket = this.socket ?? this.connect();
    socket.write(unsent.length === 1 ? unsent[0]! : unsent.join(""));
  };

  private armTimer(): void {
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.timedOut, this.timeoutMs).unref();
  }

  private readonly timedOut = (): void => {
    if (this.inFlight.length > 0) this.fail(new Error(`no answer in ${this.timeoutMs} ms`));
  };

  private connect(): net.Socket {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    this.buffered = EMPTY;
    socket.on("data", (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    socket.on("error", (error) => {
      if (this.socket === socket) this.fail(error);
    });
    socket.on("close", () => {
      if (this.socket === socket) this.fail(new Error("the server closed the connection"));
    });
    return socket;
  }

  /** Settles, oldest first, every request whose whole answer is buffered. */
  private parse(): void {
    const data = this.buffered;
    let start = 0;
    for (;;) {
      const headEnd = data.indexOf("\r\n\r\n", start);
      if (headEnd < 0) break;
      const head = data.toString("latin1", start, headEnd);
      const status = Number(head.slice(9, 12));
      if (!head.startsWith("HTTP/1.1 ") || !Number.isInteger(status)) {
        this.fail(new Error(`not an HTTP/1.1 answer: ${JSON.stringify(head.slice(0, 40))}`));
        return;
      }
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!length) {
        this.fail(
          new Error("an answer without Content-Length (this client reads no other framing)"),
        );
        return;
      }
      const end = headEnd + 4 + Number(length[1]);
      if (data.length < end) break;
      const answered = this.inFlight.shift();
      if (!answered) {
        this.fail(new Error("an answer with no request in flight"));
        return;
      }
      start = end;
      this.armTimer();
      // The server may close the connection after this answer: the
      // requests behind it will get none, so they fail now.
      if (/\r\nconnection:\s*close/i.test(head)) {
        this.fail(new Error("the server closed the connection with requests unanswered"));
        answered.resolve(status);
        return;
      }
      answered.resolve(status);
    }
    this.buffered = start === data.length ? EMPTY : data.subarray(start);
  }

  /** Fails every request in flight or queued, and drops the connection. */
  private fail(error: Error): void {
    this.drop();
    const failed = this.inFlight;
    this.inFlight = [];
    this.unsent = [];
    for (const request of failed) request.reject(error);
  }

  /** Forgets the connection; the next request opens a new one. */
  private drop(): void {
    const socket = this.socket;
    this.socket = null;
    this.buffered = EMPTY;
    socket?.destroy();
  }
}
