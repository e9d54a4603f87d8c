#!/usr/bin/env bash
# Installs what paxlog needs on a fresh machine of this project's kind, and
# nothing when it is already there: npm packages (from package-lock.json) and
# the Debian packages the tests and the local cluster use.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { echo "[ensure-deps] $*" >&2; }

# npm packages: (re)install when node_modules is missing or older than the lockfile.
# `npm install` with the committed lock installs exactly the locked versions.
# Not `npm ci`: the reachable registry lacks some of biome's optional
# per-platform binaries (other OSes), so no lockfile can list them, and npm 11's
# `ci` refuses a lock without them.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm install, locked versions)"
  npm install --no-audit --no-fund --loglevel=error
fi

# Debian packages: etcd (server) for coordination. Installed only when missing,
# and only where apt-get can run (root on a Debian machine).
need_apt=()
command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    log "missing ${need_apt[*]}: install them (Debian: apt-get install ${need_apt[*]})"
    exit 1
  fi
fi
