import "reflect-metadata";
import { container, type DependencyContainer, instanceCachingFactory, Lifecycle } from "tsyringe";
import type { DomainConfig } from "../domain";
import { Coordinator } from "../transport/etcd";
import type { Logger } from "../transport/log";
import { RestApi } from "../transport/rest/server";
import type { ReplicaConfig } from "./config";
import { Replica } from "./replica";
import { SnapshotCodec } from "./snapshot-transfer";
import { StateMachine } from "./state-machine";
import { Waiters } from "./waiters";

export const REPLICA_CONFIG = Symbol("ReplicaConfig");
export const DOMAIN_CONFIG = Symbol("DomainConfig");
export const LOGGER = Symbol("Logger");

/**
 * The composition root: the only place that builds the replica's services,
 * each once per container. Every replica gets its own child container, so
 * several can live in one process (tests) without sharing state.
 */
export function replicaContainer(config: ReplicaConfig, log: Logger): DependencyContainer {
  const c = container.createChildContainer();
  c.register<ReplicaConfig>(REPLICA_CONFIG, { useValue: config });
  c.register<DomainConfig>(DOMAIN_CONFIG, { useValue: config.domain });
  c.register<Logger>(LOGGER, { useValue: log });
  c.register(Waiters, { useClass: Waiters }, { lifecycle: Lifecycle.ContainerScoped });
  c.register(SnapshotCodec, { useFactory: instanceCachingFactory(() => new SnapshotCodec()) });
  c.register(StateMachine, {
    useFactory: instanceCachingFactory(
      (r) =>
        new StateMachine(
          r.resolve(DOMAIN_CONFIG),
          r.resolve(Waiters),
          r.resolve<Logger>(LOGGER).child({ component: "apply" }),
        ),
    ),
  });
  c.register(Coordinator, {
    useFactory: instanceCachingFactory((r) => {
      const cfg = r.resolve<ReplicaConfig>(REPLICA_CONFIG);
      return new Coordinator({
        cluster: cfg.cluster,
        nodeId: cfg.nodeId,
        endpoints: [...cfg.etcdEndpoints],
        leaseTtlSeconds: cfg.leaseTtlSeconds,
        logger: r.resolve<Logger>(LOGGER),
        grpcAddress: cfg.peers.get(cfg.nodeId)!,
        restUrl: cfg.restUrl,
      });
    }),
  });
  c.register(Replica, {
    useFactory: instanceCachingFactory(
      (r) =>
        new Replica(
          r.resolve(REPLICA_CONFIG),
          r.resolve(Coordinator),
          r.resolve(StateMachine),
          r.resolve(Waiters),
          r.resolve(SnapshotCodec),
          r.resolve(LOGGER),
        ),
    ),
  });
  c.register(RestApi, {
    useFactory: instanceCachingFactory((r) => {
      const cfg = r.resolve<ReplicaConfig>(REPLICA_CONFIG);
      return new RestApi(
        r.resolve(Replica),
        { nodeId: cfg.nodeId, limits: cfg.domain.limits, requestTimeoutMs: cfg.requestTimeoutMs },
        r.resolve<Logger>(LOGGER).child({ component: "rest" }),
      );
    }),
  });
  return c;
}
