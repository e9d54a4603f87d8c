#!/usr/bin/env bash
# compose-file.sh N: prints docker-compose.yml for a cluster of N replicas
# (1..9; the repository's docker-compose.yml is the output for 5). Membership
# is static (every replica gets the full peer list at start), so a running
# cluster cannot be scaled: start a new one of another size instead:
#   docker-compose down -v
#   ops/docker/compose-file.sh 7 > /tmp/paxlog-7.yml
#   docker-compose -f /tmp/paxlog-7.yml -p paxlog7 up -d     # REST on 8081..8087
#   docker-compose -f /tmp/paxlog-7.yml -p paxlog7 down -v
set -euo pipefail
n=${1:-}
if ! [[ $n =~ ^[1-9]$ ]]; then
  echo "usage: $(basename "$0") N   (1..9 replicas)" >&2
  exit 2
fi
peers=$(for i in $(seq 1 "$n"); do printf '%s' "$i=paxlog-$i:7000,"; done)
peers=${peers%,}
cat <<YAML
# The compose cluster: one etcd and $n paxlog replicas on the network
# "paxlog". Build the images first (npm run docker:build), then:
#   docker-compose up -d          # healthy in ~10 s; REST on 127.0.0.1:8081..808$n
#   ops/docker/status.sh          # each replica's view
#   docker-compose down -v        # stop and remove everything
# Faults: ops/docker/{crash,recover,pause,resume,partition,heal}.sh N (they use
# the docker CLI on the fixed container names paxlog-1..$n and paxlog-etcd).
# Written by ops/docker/compose-file.sh $n.
# Fixed addresses (replica N at .100+N) so that heal.sh reconnects a
# partitioned replica at its old address: were two swapped, peers' gRPC
# channels would reach the wrong replica. PAXLOG_NET_PREFIX moves the subnet.
# File format 2.4: Debian's docker-compose v1.29 and compose v2 both read it.
version: "2.4"

x-replica: &replica
  image: paxlog-replica:latest
  init: true # tini as PID 1 forwards SIGTERM (serve also handles it)
  restart: "no" # a crash stays a crash until ops/docker/recover.sh
  depends_on:
    etcd:
      condition: service_healthy
  networks: [paxlog]
  healthcheck:
    test:
      - CMD
      - node
      - -e
      - "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
    interval: 2s
    timeout: 2s
    retries: 3
    start_period: 20s

x-replica-env: &replica-env
  PAXLOG_PEERS: "$peers"
  PAXLOG_GRPC_LISTEN: 0.0.0.0:7000
  PAXLOG_REST_LISTEN: 0.0.0.0:8080
  PAXLOG_ETCD: http://etcd:2379
  PAXLOG_CLUSTER: compose
  PAXLOG_LEASE_TTL: \${PAXLOG_LEASE_TTL:-2}
  PAXLOG_SNAPSHOT_EVERY: \${PAXLOG_SNAPSHOT_EVERY:-10000}
  PAXLOG_RETAIN_TAIL: \${PAXLOG_RETAIN_TAIL:-1000}
  PAXLOG_REQUEST_TIMEOUT_MS: \${PAXLOG_REQUEST_TIMEOUT_MS:-5000}
  PAXLOG_LOG_LEVEL: \${PAXLOG_LOG_LEVEL:-info}

services:
  etcd:
    image: paxlog-etcd:latest
    container_name: paxlog-etcd
    init: true
    restart: "no"
    networks:
      paxlog:
        ipv4_address: \${PAXLOG_NET_PREFIX:-172.29.213}.100
    tmpfs: [/var/lib/etcd] # etcd keeps nothing across runs: a fresh cluster each "up"
    healthcheck:
      test:
        - CMD
        - bash
        - -c
        - "exec 3<>/dev/tcp/127.0.0.1/2379 && printf 'GET /health HTTP/1.0\\\\r\\\\n\\\\r\\\\n' >&3 && grep -q '\\"health\\":\\"true\\"' <&3"
      interval: 1s
      timeout: 2s
      retries: 30
YAML
for i in $(seq 1 "$n"); do
  cat <<YAML

  paxlog-$i:
    <<: *replica
    container_name: paxlog-$i
    hostname: paxlog-$i
    environment:
      <<: *replica-env
      PAXLOG_ID: "$i"
      PAXLOG_REST_URL: http://localhost:808$i
    ports: ["127.0.0.1:808$i:8080"]
    networks:
      paxlog:
        ipv4_address: \${PAXLOG_NET_PREFIX:-172.29.213}.$((100 + i))
YAML
done
cat <<YAML

networks:
  paxlog:
    name: paxlog
    ipam:
      config:
        - subnet: \${PAXLOG_NET_PREFIX:-172.29.213}.0/24
YAML
