# A paxlog replica. Configuration comes from the PAXLOG_* environment
# variables (`paxlog serve --help` lists them); see docker-compose.yml.
#
# The app is built on the host, not in the image: `npm ci` inside a build
# cannot reach the npm registry on machines like ours. ops/docker/build-images.sh
# (npm run docker:build) compiles it and stages dist/docker/modules (production
# node_modules, pruned in the stage) and dist/docker/app (dist/, proto/,
# package.json), then runs
#   docker build -t paxlog-replica:latest --build-arg BASE_IMAGE=node:20-bookworm-slim .
# BASE_IMAGE defaults to the official image; the script makes a local one with
# that tag when no registry is reachable.
ARG BASE_IMAGE=node:20-bookworm-slim
FROM ${BASE_IMAGE}
ENV NODE_ENV=production \
    PAXLOG_GRPC_LISTEN=0.0.0.0:7000 \
    PAXLOG_REST_LISTEN=0.0.0.0:8080
WORKDIR /app
# dependencies first: this layer changes only when package-lock.json does
COPY dist/docker/modules/ ./
COPY dist/docker/app/ ./
USER node
EXPOSE 7000 8080
# serve stops cleanly on SIGTERM (resigns, revokes its etcd lease)
# the node flags are ops/replica-node-flags.ts's (a unit test keeps them equal)
ENTRYPOINT ["node", "--initial-old-space-size=256", "dist/ops/cli.js", "serve"]
