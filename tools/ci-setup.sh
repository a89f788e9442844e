#!/usr/bin/env bash
# Install what the verification tests need on a clean Debian machine (run by `./dev test`).
# Idempotent and quiet: installs only what is missing, one `apt-get update` at most.
# Never fails by itself: without root or network it says what is missing, and the tests
# that need it skip with that reason (under CI=true a skip fails the run: tools/pytest_ci.py).
set -uo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have dockerd || need+=(docker.io)
have docker-init || need+=(tini)
have caddy || need+=(caddy)
have promtool || need+=(prometheus)
have amtool || need+=(prometheus-alertmanager)
[ -x /bin/busybox ] || need+=(busybox-static)
have curl || need+=(curl)
have dot || need+=(graphviz)  # tools/diagram.py: the plan's SVG
have runuser || need+=(util-linux)
have ssh-keygen || need+=(openssh-client)  # the enterprise engine preview's throwaway key
have debootstrap || need+=(debootstrap)    # verify/images: root filesystems of the real images
have chromium || need+=(chromium)          # the browser journey (tests/stack)
have certutil || need+=(libnss3-tools)   # the browser journey trusts the stack CA in an NSS db
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)

if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ci-setup: not root; missing ${need[*]} (the tests that need them will skip)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
log=/tmp/agent-os-ci-setup.log
echo "ci-setup: installing ${need[*]}"
if ! apt-get update -qq >"$log" 2>&1; then
  echo "ci-setup: apt-get update failed (offline?); see $log; the tests that need ${need[*]} will skip" >&2
  exit 0
fi
# pgvector is optional (Debian bookworm has none); install it where the archive has it.
for v in /usr/lib/postgresql/*/; do
  v=$(basename "$v")
  if apt-cache show "postgresql-$v-pgvector" >/dev/null 2>&1; then need+=("postgresql-$v-pgvector"); fi
done
if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$log" 2>&1; then
  echo "ci-setup: apt-get install failed; see $log; the tests that need ${need[*]} will skip" >&2
fi
# The package's postinst may have started a PostgreSQL cluster; the tests start their own.
exit 0
