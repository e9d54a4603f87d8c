import type net from "node:net";

interface Chunk {
  chunk: Buffer | string;
  encoding: BufferEncoding;
}
type Chunks = Chunk[] & { allBuffers?: boolean };
type Callback = (error?: Error | null) => void;

/** The Writable extension points of net.Socket that this module replaces on one socket. */
interface SocketWriter {
  _write(chunk: Buffer | string, encoding: BufferEncoding, callback: Callback): void;
  _writev(chunks: Chunks, callback: Callback): void;
  _final(callback: Callback): void;
  _destroy(error: Error | null, callback: Callback): void;
}

/**
 * Makes one server connection send everything written to it during a turn
 * of the event loop in one write.
 *
 * Why: Node's HTTP server answers pipelined requests one at a time, each
 * only once the previous answer's write has completed, so the answers that
 * one turn completes (a commit settles many waiting requests at once, a read
 * of the socket brings many requests) would each leave in a send of its
 * own. On loopback a send costs about 10 µs of kernel time, mostly spent
 * delivering to and waking the receiver, and in a pipelined read step those
 * sends were a third of a replica's CPU.
 *
 * How: a write is held, and reported complete at once while the bytes held
 * or still being written are under the socket's high-water mark, so the
 * server goes on to the next answer within the same turn. The held bytes
 * leave together in one writev from setImmediate, after the turn's I/O
 * callbacks, ticks and microtasks.
 * Past the high-water mark, the report waits for the real write, as it would
 * without this: a client that does not read still pushes back. Ending or
 * destroying the connection first sends what is held. A failed write destroys
 * the connection, as the socket itself would; answers reported complete are
 * then lost with it, like bytes in a kernel buffer when a connection resets.
 */
export function coalesceWrites(socket: net.Socket): void {
  const writer = socket as unknown as SocketWriter;
  const writev = writer._writev.bind(socket);
  const final = writer._final.bind(socket);
  const destroy = writer._destroy.bind(socket);
  const limit = socket.writableHighWaterMark;
  let held: Chunks = [];
  let heldBytes = 0;
  /** Bytes handed to the socket's handle whose write has not completed (a full kernel buffer). */
  let sending = 0;
  /** Writable issues one write at a time, so at most one report waits for the send. */
  let owed: Callback | null = null;
  let scheduled = false;

  const send = (): void => {
    scheduled = false;
    if (held.length === 0) return;
    const chunks = held;
    const report = owed;
    const bytes = heldBytes;
    held = [];
    heldBytes = 0;
    owed = null;
    chunks.allBuffers = chunks.every((c) => typeof c.chunk !== "string");
    sending += bytes;
    writev(chunks, (error) => {
      sending -= bytes;
      if (report) report(error);
      else if (error) socket.destroy(error);
    });
  };

  const hold = (chunks: readonly Chunk[], callback: Callback): void => {
    for (const { chunk, encoding } of chunks) {
      held.push({ chunk, encoding });
      heldBytes += typeof chunk === "string" ? Buffer.byteLength(chunk, encoding) : chunk.length;
    }
    if (!scheduled) {
      scheduled = true;
      setImmediate(send);
    }
    if (heldBytes + sending < limit) callback();
    else owed = callback;
  };

  writer._write = (chunk, encoding, callback) => hold([{ chunk, encoding }], callback);
  writer._writev = (chunks, callback) => hold(chunks, callback);
  writer._final = (callback) => {
    // libuv performs a shutdown after the writes already queued on the handle.
    send();
    final(callback);
  };
  writer._destroy = (error, callback) => {
    // What a plain socket would have tried to send before closing, such as
    // the 400 that Node's server writes just before it destroys a
    // connection whose request it cannot parse.
    send();
    destroy(error, callback);
  };
}
