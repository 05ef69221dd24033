#!/usr/bin/env bash
# Installs what is missing and prepares local state. Idempotent; `npm start` and `npm test` call it.
# Usage: scripts/setup.sh [--for-tests]
. "$(dirname "$0")/lib.sh"
ensure_node
ensure_npm_packages
ensure_postgres
ensure_temporal
if [ "${1:-}" = "--for-tests" ]; then
  # scripts/test.sh also runs the core end-to-end tests on the PostgreSQL-backed server (scripts/temporal-server.sh).
  ensure_temporal_server
  # clamd, MinIO (built once, several minutes the first time) and Azurite for the attachment tests.
  bash "$ROOT/scripts/file-services.sh" install
  # Dovecot, OpenSMTPD and dnsmasq from Debian for the email tests (their system services stay off).
  bash "$ROOT/scripts/mail-services.sh" install
  command -v chromium >/dev/null || { log "installing Debian's chromium for the browser tests"; apt_install chromium; }
else
  ensure_env_file
fi
