# A stand-in for the official node:20-bookworm-slim on machines that cannot
# pull it: Debian bookworm plus this machine's Node.js and npm, laid out as in
# the official image (/usr/local/bin/node, user "node" with uid 1000).
# ops/docker/build-images.sh builds it, with a context holding ./node (the
# binary) and ./npm (npm's package directory), only when the tag is missing.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
  && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
  && groupadd --gid 1000 node \
  && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
  && node --version && npm --version
LABEL org.opencontainers.image.description="local stand-in for node:20-bookworm-slim (host Node.js)"
CMD ["node"]
