# etcd for the compose cluster: Debian's etcd-server package (3.4) on Debian
# bookworm. Works on the locally made debian:bookworm-slim (apt reaches the
# Debian mirror inside builds) and on the official image alike.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server \
  && rm -rf /var/lib/apt/lists/* \
  && etcd --version
EXPOSE 2379
# Tuned as the local cluster runs it: a 1 s lease TTL is then really 1 s.
# --data-dir sits on a tmpfs in docker-compose.yml (the cluster keeps no state).
ENTRYPOINT ["etcd", "--name=etcd", "--data-dir=/var/lib/etcd/paxlog", \
  "--listen-client-urls=http://0.0.0.0:2379", "--advertise-client-urls=http://etcd:2379", \
  "--listen-peer-urls=http://127.0.0.1:2380", "--initial-advertise-peer-urls=http://127.0.0.1:2380", \
  "--initial-cluster=etcd=http://127.0.0.1:2380", \
  "--heartbeat-interval=50", "--election-timeout=500", "--log-level=warn"]
