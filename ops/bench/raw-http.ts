import net from "node:net";

const EMPTY = Buffer.alloc(0);

/**
 * The benchmark's cheapest HTTP/1.1 client: one keep-alive connection, one
 * request at a time (a closed-loop client), the request written as one
 * string and the answer parsed only as far as its status and its
 * Content-Length body. On this kind of machine a request costs the
 * generator well under half the CPU of undici's Pool, and every
 * microsecond the generator spends is one the replicas sharing its cores
 * do not get. It speaks just enough HTTP for paxlog's answers (always
 * Content-Length framed) and fails loudly on anything else.
 */
export class RawHttpConnection {
  private socket: net.Socket | null = null;
  private buffered: Buffer = EMPTY;
  private pending: {
    resolve: (status: number) => void;
    reject: (error: Error) => void;
  } | null = null;
  /**
   * One timer per connection, re-armed for each request (cheaper than a
   * timer made and cleared per request); when it fires with nothing in
   * flight it does nothing.
   */
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Sends one request and resolves with the answer's status once its body has arrived. */
  request(method: string, path: string, body?: string, contentType?: string): Promise<number> {
    if (this.pending) return Promise.reject(new Error("a request is already in flight"));
    const socket = this.socket ?? this.connect();
    const head =
      body === undefined
        ? `${method} ${path} HTTP/1.1\r\nhost: ${this.host}\r\n\r\n`
        : `${method} ${path} HTTP/1.1\r\nhost: ${this.host}\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      if (this.timer) this.timer.refresh();
      else this.timer = setTimeout(this.timedOut, this.timeoutMs).unref();
      socket.write(head);
    });
  }

  close(): void {
    this.fail(new Error("connection closed"));
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private readonly timedOut = (): void => {
    if (this.pending) this.fail(new Error(`no answer in ${this.timeoutMs} ms`));
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

  /** Settles the request in flight once its whole answer is buffered. */
  private parse(): void {
    const data = this.buffered;
    const headEnd = data.indexOf("\r\n\r\n");
    if (headEnd < 0) return;
    const head = data.toString("latin1", 0, headEnd);
    const status = Number(head.slice(9, 12));
    if (!head.startsWith("HTTP/1.1 ") || !Number.isInteger(status)) {
      this.fail(new Error(`not an HTTP/1.1 answer: ${JSON.stringify(head.slice(0, 40))}`));
      return;
    }
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.fail(new Error("an answer without Content-Length (this client reads no other framing)"));
      return;
    }
    const end = headEnd + 4 + Number(length[1]);
    if (data.length < end) return;
    if (data.length > end) {
      this.fail(new Error("bytes after the answer, with no request to match them"));
      return;
    }
    this.buffered = EMPTY;
    const pending = this.pending;
    this.pending = null;
    if (!pending) {
      this.fail(new Error("an answer with no request in flight"));
      return;
    }
    // The server may keep the connection or close it after this answer.
    if (/\r\nconnection:\s*close/i.test(head)) this.drop();
    pending.resolve(status);
  }

  private fail(error: Error): void {
    this.drop();
    const pending = this.pending;
    this.pending = null;
    if (!pending) return;
    pending.reject(error);
  }

  /** Forgets the connection; the next request opens a new one. */
  private drop(): void {
    const socket = this.socket;
    this.socket = null;
    this.buffered = EMPTY;
    socket?.destroy();
  }
}
