import net from "node:net";

/**
 * A TCP proxy per directed replica→replica link (i→j: replica i's `--peers`
 * entry for j points here, and this forwards to j's real gRPC port), so the
 * nemesis can partition precisely. Cutting a link destroys its open sockets
 * and refuses (accepts then destroys) new connections until it is healed;
 * gRPC sees a dead transport and reconnects with its own backoff.
 */
export class LinkProxy {
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | null = null;
  private cutFlag = false;
  port = 0;

  constructor(
    readonly from: number,
    readonly to: number,
    private readonly targetPort: number,
  ) {}

  get cut(): boolean {
    return this.cutFlag;
  }

  listen(): Promise<number> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        this.port = (server.address() as net.AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  private accept(client: net.Socket): void {
    client.on("error", () => {});
    if (this.cutFlag) {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = net.connect({ host: "127.0.0.1", port: this.targetPort });
    upstream.setNoDelay(true);
    upstream.on("error", () => {});
    this.sockets.add(client);
    this.sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("close", close);
    upstream.on("close", close);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Destroys every open connection and refuses new ones until heal(). */
  cutLink(): void {
    this.cutFlag = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  heal(): void {
    this.cutFlag = false;
  }

  async close(): Promise<void> {
    this.cutLink();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Every directed link of an n-replica cluster. Ids are 1..n. */
export class ProxyMesh {
  private readonly links = new Map<string, LinkProxy>();

  private constructor(readonly n: number) {}

  static async start(grpcPorts: readonly number[]): Promise<ProxyMesh> {
    const mesh = new ProxyMesh(grpcPorts.length);
    for (let i = 1; i <= mesh.n; i++) {
      for (let j = 1; j <= mesh.n; j++) {
        if (i === j) continue;
        const link = new LinkProxy(i, j, grpcPorts[j - 1]!);
        await link.listen();
        mesh.links.set(`${i}>${j}`, link);
      }
    }
    return mesh;
  }

  link(from: number, to: number): LinkProxy {
    const l = this.links.get(`${from}>${to}`);
    if (!l) throw new Error(`no link ${from}>${to}`);
    return l;
  }

  /** Replica i's --peers: its own real address, and a proxy for every other replica. */
  peersFor(i: number, grpcPorts: readonly number[]): string {
    return grpcPorts
      .map((port, k) => {
        const j = k + 1;
        return `${j}=127.0.0.1:${j === i ? port : this.link(i, j).port}`;
      })
      .join(",");
  }

  /** Cuts every link between the two sides, both directions. */
  partition(side: readonly number[]): void {
    const inSide = new Set(side);
    for (const l of this.links.values()) {
      if (inSide.has(l.from) !== inSide.has(l.to)) l.cutLink();
    }
  }

  healAll(): void {
    for (const l of this.links.values()) l.heal();
  }

  cutLinks(): string[] {
    return [...this.links.values()].filter((l) => l.cut).map((l) => `${l.from}>${l.to}`);
  }

  async close(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }
}
