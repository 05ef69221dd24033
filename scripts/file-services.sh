#!/usr/bin/env bash
# The servers behind the attachment pipeline, run locally on loopback for development and the tests:
#   clamd    Debian's clamav-daemon, from a project-owned config and signature directory (INSTREAM over TCP)
#   S3       a MinIO server built once with go install into .tools/bin
#   Azurite  the Azure Blob emulator (blob service only), installed from npm into .tools/azurite
#
# Usage: scripts/file-services.sh install|start|stop|status [clamd|s3|azurite ...]
#   install  installs or builds what is missing (nothing else)
#   start    installs what is missing, starts what is not running, waits until each answers, prints the endpoints
#   stop     stops the servers this checkout started (by their pid files)
#   status   prints each server's endpoint and whether it answers; exits 1 when one does not
# Every command is idempotent. With no service named, it applies to all three.
#
# Environment (defaults in brackets). State sits under FILES_SERVICES_DIR, one directory per server and port, so
# a second checkout (its own .data) and the tests (their own ports) never share a pid file or data directory:
#   FILES_SERVICES_DIR        [$ROOT/.data/files-services]
#   CLAMD_HOST                [127.0.0.1]   the address clamd listens on and clients dial
#   CLAMD_PORT                [3310]
#   CLAMD_STREAM_MAX_LENGTH   [30M]         clamd's StreamMaxLength: INSTREAM data past it is refused
#   CLAMD_DATABASE_DIR        [$FILES_SERVICES_DIR/clamd-$CLAMD_PORT/db, filled from scripts/clamav/]
#   S3_HOST, S3_PORT          [127.0.0.1, 9000]
#   S3_ACCESS_KEY, S3_SECRET_KEY [switchboard, switchboard-dev-secret]  local-only credentials of the test server
#   S3_BUCKET                 [switchboard-files]  created on start
#   AZURITE_HOST, AZURITE_BLOB_PORT [127.0.0.1, 10000]
#     Azurite serves its well-known development account (devstoreaccount1 and its published key) unless
#     AZURITE_ACCOUNTS is set (Azurite's own variable: "name:key1;name2:key2").
#
# Virus signatures. freshclam cannot reach the internet here, so the project ships its own small database in
# scripts/clamav/: test.hdb holds the MD5 and size of the standard 68-byte EICAR test file. clamd loads .hdb files
# offline and reports signatures from an unsigned database with the suffix ".UNOFFICIAL"
# (`Eicar-Test-Signature.UNOFFICIAL`).
# In production clamd uses the official databases instead: install clamav-freshclam, let it update
# /var/lib/clamav (main.cvd, daily.cvd, bytecode.cvd; the freshclam service checks for updates every few hours),
# and point clamd at it with CLAMD_DATABASE_DIR=/var/lib/clamav (or run the distribution's clamav-daemon with its
# own /etc/clamav/clamd.conf, TCPSocket on a private address). The official databases detect EICAR as
# Win.Test.EICAR_HDB-1. They take about a minute and ~1.5 GB of memory to load, so wait for PING, as start does.
. "$(dirname "$0")/lib.sh"

FILES_SERVICES_DIR="${FILES_SERVICES_DIR:-$DATA/files-services}"
CLAMD_HOST="${CLAMD_HOST:-127.0.0.1}"
CLAMD_PORT="${CLAMD_PORT:-3310}"
CLAMD_STREAM_MAX_LENGTH="${CLAMD_STREAM_MAX_LENGTH:-30M}"
S3_HOST="${S3_HOST:-127.0.0.1}"
S3_PORT="${S3_PORT:-9000}"
S3_ACCESS_KEY="${S3_ACCESS_KEY:-switchboard}"
S3_SECRET_KEY="${S3_SECRET_KEY:-switchboard-dev-secret}"
S3_BUCKET="${S3_BUCKET:-switchboard-files}"
AZURITE_HOST="${AZURITE_HOST:-127.0.0.1}"
AZURITE_BLOB_PORT="${AZURITE_BLOB_PORT:-10000}"
# @latest resolved to this pseudo-version when the build was measured; pinned so every machine builds the same.
MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"

CLAMD_STATE="$FILES_SERVICES_DIR/clamd-$CLAMD_PORT"
CLAMD_DATABASE_DIR="${CLAMD_DATABASE_DIR:-$CLAMD_STATE/db}"
S3_STATE="$FILES_SERVICES_DIR/s3-$S3_PORT"
AZURITE_STATE="$FILES_SERVICES_DIR/azurite-$AZURITE_BLOB_PORT"
MINIO_BIN="$TOOLS/bin/minio"
AZURITE_DIR="$TOOLS/azurite"

# --- process helpers ---------------------------------------------------------------------------------------------

# The pid in a pid file when that process is alive.
running_pid() {
  local file=$1 pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
  return 1
}

port_open() { (echo >"/dev/tcp/$1/$2") 2>/dev/null; }

# Refuses to start over a port that something else (another checkout, a system service) already holds: the tests
# would otherwise talk to a server with other data and credentials without noticing.
check_port_free() {
  local name=$1 host=$2 port=$3
  if port_open "$host" "$port"; then
    log "$name: $host:$port is already taken by a process this checkout did not start; choose another port (see the header of $0)"
    return 1
  fi
}

# Starts a command in its own session (so stop can end it and its children), output to a log file.
spawn() {
  local pidfile=$1 logfile=$2
  shift 2
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# Stops a server by its pid file: TERM to its process group, then KILL after the grace period (tenths of a second)
# or as soon as its log shows the line `done_line` (Azurite closes its stores on TERM but its process lingers).
stop_pidfile() {
  local name=$1 file=$2 grace=${3:-100} log=${4:-} done_line=${5:-} pid i
  if pid="$(running_pid "$file")"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      [ -n "$done_line" ] && grep -q "$done_line" "$log" 2>/dev/null && break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
    log "$name stopped"
  fi
  rm -f "$file"
}

# --- clamd -------------------------------------------------------------------------------------------------------

clamd_install() {
  command -v clamd >/dev/null || [ -x /usr/sbin/clamd ] || {
    log "installing Debian's clamav-daemon"
    apt_install clamav-daemon
  }
}

clamd_ping() {
  # zPING answers PONG\0; bash's /dev/tcp keeps this free of netcat variants.
  local reply
  reply="$(
    exec 2>/dev/null 3<>"/dev/tcp/$CLAMD_HOST/$CLAMD_PORT" || exit 1
    printf 'zPING\0' >&3
    timeout 2 head -c 4 <&3
  )" || return 1
  [ "$reply" = PONG ]
}

clamd_start() {
  clamd_install
  mkdir -p "$CLAMD_STATE/tmp"
  if running_pid "$CLAMD_STATE/clamd.pid" >/dev/null; then
    clamd_wait
    return
  fi
  check_port_free clamd "$CLAMD_HOST" "$CLAMD_PORT"
  if [ "$CLAMD_DATABASE_DIR" = "$CLAMD_STATE/db" ]; then
    mkdir -p "$CLAMD_DATABASE_DIR"
    cp "$ROOT"/scripts/clamav/*.hdb "$CLAMD_DATABASE_DIR/"
  fi
  # clamd runs as whoever starts it (root here; it does not refuse root) unless User is set, so no
  # chown dance: everything it reads and writes is in this checkout's .data.
  cat >"$CLAMD_STATE/clamd.conf" <<CONF
# Generated by scripts/file-services.sh; edit the script, not this file.
TCPSocket $CLAMD_PORT
TCPAddr $CLAMD_HOST
Foreground yes
DatabaseDirectory $CLAMD_DATABASE_DIR
TemporaryDirectory $CLAMD_STATE/tmp
LogFile $CLAMD_STATE/clamd.log
LogTime yes
LogFileMaxSize 10M
StreamMaxLength $CLAMD_STREAM_MAX_LENGTH
MaxFileSize $CLAMD_STREAM_MAX_LENGTH
# Content past a scan limit (file size, archive depth and size) is reported, never passed as OK unscanned.
AlertExceedsMax yes
# An idle or stalled client is dropped after this many seconds.
ReadTimeout 30
CommandReadTimeout 30
SelfCheck 600
CONF
  spawn "$CLAMD_STATE/clamd.pid" "$CLAMD_STATE/clamd.out" "$(command -v clamd || echo /usr/sbin/clamd)" \
    -c "$CLAMD_STATE/clamd.conf"
  clamd_wait
}

clamd_wait() {
  local i
  # The official databases take about a minute to load; the project's own signature file well under a second.
  for ((i = 0; i < 1800; i++)); do
    clamd_ping && return 0
    running_pid "$CLAMD_STATE/clamd.pid" >/dev/null || break
    sleep 0.1
  done
  log "clamd did not answer PING on $CLAMD_HOST:$CLAMD_PORT; its log:"
  tail -20 "$CLAMD_STATE/clamd.out" "$CLAMD_STATE/clamd.log" >&2 2>/dev/null || true
  return 1
}

clamd_stop() { stop_pidfile clamd "$CLAMD_STATE/clamd.pid"; }
clamd_endpoint() { echo "clamd    tcp://$CLAMD_HOST:$CLAMD_PORT (INSTREAM; StreamMaxLength $CLAMD_STREAM_MAX_LENGTH)"; }
clamd_status() { clamd_ping; }

# --- S3 (MinIO) --------------------------------------------------------------------------------------------------

s3_install() {
  [ -x "$MINIO_BIN" ] && return
  command -v go >/dev/null || { log "go is required to build the MinIO server"; exit 1; }
  log "building the MinIO server $MINIO_VERSION with go install (several minutes the first time)"
  # A directory of its own, then a rename: .tools/bin never holds a half-written binary under the final name.
  local staging="$TOOLS/bin/.minio-$MINIO_VERSION"
  rm -rf "$staging"
  GOBIN="$staging" go install "github.com/minio/minio@$MINIO_VERSION"
  mv "$staging/minio" "$MINIO_BIN"
  rmdir "$staging"
}

# An S3 request signed with SigV4 by curl itself; prints the HTTP status.
s3_request() {
  local method=$1 path=$2
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X "$method" \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    "http://$S3_HOST:$S3_PORT$path" || true
}

s3_ready() { [ "$(s3_request GET /)" = 200 ]; }

s3_start() {
  s3_install
  mkdir -p "$S3_STATE/data"
  if ! running_pid "$S3_STATE/s3.pid" >/dev/null; then
    check_port_free S3 "$S3_HOST" "$S3_PORT"
    # The console would take a second, random port; its own fixed port keeps two instances apart.
    MINIO_ROOT_USER="$S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$S3_SECRET_KEY" MINIO_BROWSER=off \
      MINIO_UPDATE=off MINIO_CI_CD=1 \
      spawn "$S3_STATE/s3.pid" "$S3_STATE/s3.log" "$MINIO_BIN" server --quiet \
      --address "$S3_HOST:$S3_PORT" --console-address "$S3_HOST:0" "$S3_STATE/data"
  fi
  local i
  for ((i = 0; i < 600; i++)); do
    s3_ready && break
    running_pid "$S3_STATE/s3.pid" >/dev/null || { log "the S3 server exited; its log:"; tail -20 "$S3_STATE/s3.log" >&2; return 1; }
    sleep 0.1
  done
  s3_ready || { log "the S3 server did not answer on $S3_HOST:$S3_PORT"; tail -20 "$S3_STATE/s3.log" >&2; return 1; }
  # HEAD answers 200 when the bucket exists; PUT creates it (200) or finds it already ours (409 on some servers).
  if [ "$(s3_request HEAD "/$S3_BUCKET")" != 200 ]; then
    local code
    code="$(s3_request PUT "/$S3_BUCKET")"
    case "$code" in 200 | 409) ;; *) log "creating the bucket $S3_BUCKET failed (HTTP $code)"; return 1 ;; esac
  fi
}

s3_stop() { stop_pidfile S3 "$S3_STATE/s3.pid"; }
s3_endpoint() { echo "S3       http://$S3_HOST:$S3_PORT bucket $S3_BUCKET (access key $S3_ACCESS_KEY)"; }
s3_status() { s3_ready; }

# --- Azurite (blob) ----------------------------------------------------------------------------------------------

azurite_install() {
  local stamp="$AZURITE_DIR/.lock-hash" want
  want="$(sha256sum "$ROOT/scripts/azurite/package-lock.json" | cut -d' ' -f1)"
  if [ -x "$AZURITE_DIR/node_modules/.bin/azurite-blob" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return; fi
  ensure_node
  log "installing Azurite from npm into $AZURITE_DIR"
  mkdir -p "$AZURITE_DIR"
  # Its own package.json and lock: npm would otherwise walk up and install into the project.
  cp "$ROOT/scripts/azurite/package.json" "$ROOT/scripts/azurite/package-lock.json" "$AZURITE_DIR/"
  (cd "$AZURITE_DIR" && npm ci --no-audit --no-fund >"$AZURITE_DIR/npm-ci.log" 2>&1) || {
    log "npm ci for Azurite failed:"
    tail -20 "$AZURITE_DIR/npm-ci.log" >&2
    return 1
  }
  echo "$want" >"$stamp"
}

azurite_ready() {
  # Any HTTP answer means the blob service is up; an unauthenticated request gets 400 or 403.
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$AZURITE_HOST:$AZURITE_BLOB_PORT/devstoreaccount1?comp=list" || true)"
  [ "$code" != 000 ] && [ -n "$code" ]
}

azurite_start() {
  azurite_install
  mkdir -p "$AZURITE_STATE/data"
  if ! running_pid "$AZURITE_STATE/azurite.pid" >/dev/null; then
    check_port_free Azurite "$AZURITE_HOST" "$AZURITE_BLOB_PORT"
    ensure_node
    : >"$AZURITE_STATE/azurite.log" # stop looks for this run's "closed" line
    # --skipApiVersionCheck: @azure/storage-blob 12.34 asks for API version 2026-10-06, newer than Azurite
    # 3.37's 2026-06-06; the calls the driver makes exist in both.
    spawn "$AZURITE_STATE/azurite.pid" "$AZURITE_STATE/azurite.log" \
      "$AZURITE_DIR/node_modules/.bin/azurite-blob" --blobHost "$AZURITE_HOST" --blobPort "$AZURITE_BLOB_PORT" \
      --location "$AZURITE_STATE/data" --skipApiVersionCheck --silent
  fi
  local i
  for ((i = 0; i < 600; i++)); do
    azurite_ready && return 0
    running_pid "$AZURITE_STATE/azurite.pid" >/dev/null || break
    sleep 0.1
  done
  log "Azurite did not answer on $AZURITE_HOST:$AZURITE_BLOB_PORT; its log:"
  tail -20 "$AZURITE_STATE/azurite.log" >&2
  return 1
}

azurite_stop() {
  stop_pidfile Azurite "$AZURITE_STATE/azurite.pid" 100 "$AZURITE_STATE/azurite.log" "successfully closed"
}
azurite_endpoint() { echo "Azurite  http://$AZURITE_HOST:$AZURITE_BLOB_PORT/devstoreaccount1 (blob)"; }
azurite_status() { azurite_ready; }

# --- main --------------------------------------------------------------------------------------------------------

command="${1:-}"
shift || true
services=("$@")
[ ${#services[@]} = 0 ] && services=(clamd s3 azurite)
for s in "${services[@]}"; do
  case "$s" in clamd | s3 | azurite) ;; *) log "unknown service '$s' (clamd, s3, azurite)"; exit 2 ;; esac
done

case "$command" in
  install) for s in "${services[@]}"; do "${s}_install"; done ;;
  start)
    for s in "${services[@]}"; do "${s}_start"; done
    for s in "${services[@]}"; do "${s}_endpoint"; done
    ;;
  stop) for s in "${services[@]}"; do "${s}_stop"; done ;;
  status)
    down=0
    for s in "${services[@]}"; do
      if "${s}_status"; then echo "up    $("${s}_endpoint")"; else echo "down  $("${s}_endpoint")"; down=1; fi
    done
    exit "$down"
    ;;
  *)
    echo "usage: $0 install|start|stop|status [clamd|s3|azurite ...]" >&2
    exit 2
    ;;
esac
