import { type Message, type NodeId, nodeId } from "../../consensus";
import type { Logger } from "../log";
import { ForwardError, type ForwardReply, type ForwardReplyWire, replyWire } from "./forward";
import type { DecodedPaxosBatch } from "./paxos-codec";
import { PeerLink, type SnapshotLimits } from "./peer-link";
import { type PeerHandlers, PeerServer, type SnapshotChunk } from "./peer-server";

export interface PeerTransportOptions {
  /** Forwarded commands in flight per peer before more fail fast (default 1024). */
  readonly maxForwardsInFlight?: number;
  /** Their command bytes, likewise (default 32 MiB). */
  readonly maxForwardBytesInFlight?: number;
}

export interface PeerLinkStats {
  readonly peer: NodeId;
  /** Batches written to the peer, and received from it (each is one gRPC message). */
  readonly batchesSent: number;
  readonly batchesReceived: number;
  /** Paxos messages sent, and dropped while the peer was down or slow. */
  readonly sent: number;
  readonly dropped: number;
  /** Answers to the peer's forwards dropped: no stream, or for a session that ended. */
  readonly repliesDropped: number;
  readonly forwards: { inFlight: number; batchesSent: number; replyBatchesReceived: number };
}

/**
 * The replica's gRPC side: its server, and one link per peer. Whatever a
 * turn of the event loop has for a peer (Paxos messages, forwarded
 * commands, answers to the peer's forwards) leaves at the end of the turn
 * as one batch: a peer that forwards and votes in the same turn pays for
 * one message, not two.
 */
export class PeerTransport {
  private readonly server: PeerServer;
  private readonly links = new Map<NodeId, PeerLink>();
  private flushScheduled = false;
  private readonly batchesReceived = new Map<NodeId, number>();

  constructor(
    readonly self: NodeId,
    private readonly peers: ReadonlyMap<NodeId, string>,
    private readonly handlers: PeerHandlers,
    private readonly log: Logger,
    private readonly options: PeerTransportOptions = {},
  ) {
    this.server = new PeerServer(
      {
        onBatch: (batch) => this.receive(batch),
        onFetchSnapshot: (minIndex) => handlers.onFetchSnapshot(minIndex),
      },
      log,
    );
  }

  /** Starts serving on `address` and connects to every peer. Returns the bound port. */
  async start(address: string): Promise<number> {
    const port = await this.server.listen(address);
    for (const [id, peerAddress] of this.peers) {
      if (id === this.self) continue;
      const link = new PeerLink(
        id,
        peerAddress,
        this.log.child({ peer: id }),
        this.self,
        {
          commands: this.options.maxForwardsInFlight ?? 1024,
          bytes: this.options.maxForwardBytesInFlight ?? 32 * 1024 * 1024,
        },
        this.scheduleFlush,
      );
      this.links.set(id, link);
    }
    return port;
  }

  /** Queues messages for their peers: they leave at the end of this turn. */
  send(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    for (const m of messages) {
      const link = this.links.get(m.to);
      if (link) link.queue(m);
      else this.log.error("message for an unknown peer", { to: m.to });
    }
    this.scheduleFlush();
  }

  /** Asks for the end-of-turn flush (see PeerHandlers.beforeFlush). */
  readonly scheduleFlush = (): void => {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  };

  private readonly flush = (): void => {
    // Still flagged as scheduled: what the hook sends joins this flush.
    this.handlers.beforeFlush?.();
    this.flushScheduled = false;
    for (const link of this.links.values()) link.flush();
  };

  private receive(batch: DecodedPaxosBatch): void {
    const from = nodeId(batch.from);
    this.batchesReceived.set(from, (this.batchesReceived.get(from) ?? 0) + 1);
    if (batch.messages.length > 0) this.handlers.onMessages(batch.messages);
    if (batch.replies.length > 0) this.links.get(from)?.settle(batch.replySession, batch.replies);
    if (batch.forwards.length > 0) this.serveForwards(batch);
  }

  /** Commands a follower forwarded: each answer joins our next batch to it. */
  private serveForwards(batch: DecodedPaxosBatch): void {
    const via = batch.from;
    const link = this.links.get(nodeId(via));
    if (!link) {
      this.log.error("forwarded commands from an unknown peer", { via });
      return;
    }
    const session = batch.forwardSession;
    link.forwardsFrom(session);
    const answer = (reply: ForwardReplyWire) => {
      link.reply(session, reply);
      this.scheduleFlush();
    };
    for (const forwarded of batch.forwards) {
      const id = forwarded.id;
      this.handlers
        .onForward({ command: forwarded.command, via, timeoutMs: forwarded.timeoutMs })
        .then(
          (reply) => answer(replyWire(id, reply)),
          (error: Error) => {
            this.log.error("forwarded command failed", { via, error: error.message });
            answer({ id, outcome: "failed", failed: error.message });
          },
        );
    }
  }

  /** Forwards one encoded client command to `to` (the leader) and waits for its answer. */
  forward(to: NodeId, command: Uint8Array, timeoutMs: number): Promise<ForwardReply> {
    const link = this.links.get(to);
    if (!link) return Promise.reject(new ForwardError(`unknown peer ${to}`, false));
    return link.forward(command, timeoutMs);
  }

  /**
   * Fails the forwards in flight to every peer but `leader` as "outcome
   * unknown", so that their callers follow the new leader at once (a retry
   * under the same request id is applied at most once).
   */
  abortForwardsExcept(leader: NodeId | null, reason: string): void {
    for (const [id, link] of this.links) if (id !== leader) link.abortForwards(reason);
  }

  fetchSnapshot(
    from: NodeId,
    minIndex: number,
    limits: SnapshotLimits,
  ): AsyncIterable<SnapshotChunk> {
    const link = this.links.get(from);
    if (!link) throw new Error(`unknown peer ${from}`);
    return link.fetchSnapshot(minIndex, limits);
  }

  stats(): PeerLinkStats[] {
    return [...this.links.values()].map((l) => ({
      peer: l.peer,
      batchesSent: l.batchesSent,
      batchesReceived: this.batchesReceived.get(l.peer) ?? 0,
      sent: l.sent,
      dropped: l.dropped,
      repliesDropped: l.repliesDropped,
      forwards: l.forwardStats,
    }));
  }

  async close(): Promise<void> {
    for (const link of this.links.values()) link.close();
    this.links.clear();
    await this.server.close();
  }
}
