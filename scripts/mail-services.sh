#!/usr/bin/env bash
# Real mail servers for the email integration, run locally on loopback for development and the tests:
#   imap  Dovecot: IMAP (plain text, no TLS offered), IMAP with STARTTLS and IMAPS (a second Dovecot on the same
#         mail, with a self-signed certificate, for TLS errors), and LMTP for local delivery. Virtual users from a
#         passwd-file (the address is the user name), maildirs, IDLE.
#   smtp  OpenSMTPD: accepts mail for the users' addresses (with or without a +tag) and hands it over LMTP to
#         Dovecot, so SMTP → mailbox → IMAP works. Any other recipient gets 550 at RCPT TO (nothing is relayed).
#   dns   dnsmasq: the test domains' SPF, DKIM and DMARC records (scripts/mail/dns-records.conf, plus the DKIM keys
#         generated once into $MAIL_DIR/dkim/), for mailauth through a resolver pointed at it.
#
# Usage: scripts/mail-services.sh install|start|stop|restart|status [imap|smtp|dns ...]
#   install  installs what is missing (Debian's dovecot-imapd, dovecot-lmtpd, opensmtpd, dnsmasq-base, openssl)
#            and the system user $MAIL_SYSTEM_USER that owns the mail (Dovecot refuses to store mail as root)
#   start    installs what is missing, starts what is not running, waits until each answers, prints the endpoints
#   stop     stops the servers this checkout started on these ports (by their pid files)
#   restart  stop, then start (dnsmasq reads its records only when it starts: well under a second)
#   status   prints each server's endpoint and whether it answers; exits 1 when one does not
#   With no service named, these apply to all three. Every command is idempotent.
# Users and mailboxes (Dovecot must be running; the SMTP server learns of a new user without a restart):
#   add-user ADDRESS      reads the password from the first line of standard input; adds the user (any domain),
#                         or sets the password of an existing one (that takes up to a second, see add_user)
#   clear-mailbox ADDRESS expunges every message in every folder of that user (UIDs go on from where they were)
#   doveadm ARGS...       runs doveadm against this Dovecot (e.g. `doveadm mailbox status -u a@pass.test all INBOX`)
#
# Environment (defaults in brackets). Every server listens on 127.0.0.1 only. State sits under MAIL_DIR, one
# directory per server and port, so a second checkout (its own .data) and the tests (their own ports) never share a
# pid file, a queue or a mailbox:
#   MAIL_DIR                  [$ROOT/.data/mail]
#   MAIL_SMTP_PORT            [2525]  OpenSMTPD
#   MAIL_IMAP_PORT            [1143]  Dovecot, IMAP without TLS (plain text login allowed)
#   MAIL_IMAP_STARTTLS_PORT   [1144]  Dovecot, IMAP offering STARTTLS (self-signed certificate)
#   MAIL_IMAPS_PORT           [1993]  Dovecot, IMAP over TLS (the same certificate)
#   MAIL_LMTP_PORT            [2424]  Dovecot's LMTP, where OpenSMTPD delivers
#   MAIL_DNS_PORT             [5300]  dnsmasq, UDP and TCP
#   MAIL_HOSTNAME             [mail.support.test]  the name the SMTP server greets with and writes in Received
#   MAIL_DKIM_SELECTOR        [switchboard]
#   MAIL_DKIM_DOMAINS         ["pass.test support.test"]  domains whose DKIM key is generated and published
#   MAIL_SYSTEM_USER          [sbmail]  owns the maildirs; Dovecot reads and writes mail as this user
# The SMTP server hands mail to the Dovecot of MAIL_IMAP_PORT / MAIL_LMTP_PORT and accepts that Dovecot's users:
# start them with the same settings.
#
# How the servers are kept apart from the machine's own. Dovecot runs from a generated config (`dovecot -c`) whose
# base_dir and state_dir are under MAIL_DIR; /etc/dovecot is never read. OpenSMTPD 6.8 has two paths compiled in, its
# queue (/var/spool/smtpd) and its control socket (/run/smtpd.sock), so each instance runs in a mount namespace of
# its own (unshare) where its state directory is bind-mounted over both: two instances, or the distribution's, never
# share a queue, and `smtpctl` reaches an instance through nsenter. dnsmasq reads no resolv.conf and no hosts file and
# binds only its address. The packages' own services (dovecot, opensmtpd on ports 143 and 25) are never started:
# install keeps them from starting (policy-rc.d) and disables them. dnsmasq-base is the program without the service.
. "$(dirname "$0")/lib.sh"

MAIL_DIR="${MAIL_DIR:-$DATA/mail}"
MAIL_HOST=127.0.0.1
MAIL_SMTP_PORT="${MAIL_SMTP_PORT:-2525}"
MAIL_IMAP_PORT="${MAIL_IMAP_PORT:-1143}"
MAIL_IMAP_STARTTLS_PORT="${MAIL_IMAP_STARTTLS_PORT:-1144}"
MAIL_IMAPS_PORT="${MAIL_IMAPS_PORT:-1993}"
MAIL_LMTP_PORT="${MAIL_LMTP_PORT:-2424}"
MAIL_DNS_PORT="${MAIL_DNS_PORT:-5300}"
MAIL_HOSTNAME="${MAIL_HOSTNAME:-mail.support.test}"
MAIL_DKIM_SELECTOR="${MAIL_DKIM_SELECTOR:-switchboard}"
MAIL_DKIM_DOMAINS="${MAIL_DKIM_DOMAINS:-pass.test support.test}"
MAIL_SYSTEM_USER="${MAIL_SYSTEM_USER:-sbmail}"

IMAP_STATE="$MAIL_DIR/dovecot-$MAIL_IMAP_PORT"
SMTP_STATE="$MAIL_DIR/smtpd-$MAIL_SMTP_PORT"
DNS_STATE="$MAIL_DIR/dns-$MAIL_DNS_PORT"
DKIM_DIR="$MAIL_DIR/dkim"
TLS_DIR="$MAIL_DIR/tls"
USERS_DIR="$IMAP_STATE/users"

# --- process helpers (as in scripts/file-services.sh) ------------------------------------------------------------

# A process that has exited but is not reaped yet (a zombie) counts as gone: our servers' parent is init once the
# script that started them has ended, and an init that reaps late would make every stop wait a second or more.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" != Z ]
}

running_pid() {
  local file=$1 pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  [ -n "$pid" ] && alive "$pid" && { echo "$pid"; return 0; }
  return 1
}

port_open() { (echo >"/dev/tcp/$1/$2") 2>/dev/null; }

# Refuses to start over a port that something else (another checkout, a system service) already holds: the tests
# would otherwise talk to a server with other users and mail without noticing.
check_port_free() {
  local name=$1 port=$2
  if port_open "$MAIL_HOST" "$port"; then
    log "$name: $MAIL_HOST:$port is already taken by a process this checkout did not start; choose another port (see the header of $0)"
    return 1
  fi
}

spawn() {
  local pidfile=$1 logfile=$2
  shift 2
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

stop_pidfile() {
  local name=$1 file=$2 pid i
  if pid="$(running_pid "$file")"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
      alive "$pid" || break
      sleep 0.05
    done
    if alive "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
    log "$name stopped"
  fi
  rm -f "$file"
}

# The first bytes a server sends when a client connects (its greeting), or nothing.
greeting() {
  (
    exec 2>/dev/null 3<>"/dev/tcp/$MAIL_HOST/$1" || exit 1
    timeout 2 head -c "$2" <&3
  ) || true
}

# Waits until `check` succeeds, while the server of `pidfile` lives; shows its log when it does not come up.
wait_until() {
  local name=$1 pidfile=$2 logfile=$3 i
  shift 3
  for ((i = 0; i < 300; i++)); do
    "$@" && return 0
    running_pid "$pidfile" >/dev/null || break
    sleep 0.1
  done
  log "$name did not come up; its log:"
  tail -20 "$logfile" >&2 2>/dev/null || true
  return 1
}

# --- install -----------------------------------------------------------------------------------------------------

# Debian starts a package's service when it installs it (Dovecot on 143, OpenSMTPD on 25). A policy-rc.d that says
# 101 ("not allowed") for the length of the install keeps them from starting, on init scripts and systemd alike;
# afterwards the services this install brought (not a Dovecot the machine had before) are disabled, so a reboot
# does not start them either.
install_packages() {
  local created_policy=0 removed new_services=()
  [ -x /usr/sbin/dovecot ] || new_services+=(dovecot)
  [ -x /usr/sbin/smtpd ] || new_services+=(opensmtpd)
  if [ "$APT_UPDATED" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  # opensmtpd conflicts with any other MTA: apt would remove the machine's exim4 or postfix without asking.
  removed="$(DEBIAN_FRONTEND=noninteractive apt-get install -s --no-install-recommends "$@" 2>/dev/null | awk '/^Remv /{print $2}' | tr '\n' ' ')"
  if [ -n "$removed" ]; then
    log "installing $* would remove $removed(another mail server?); install them by hand if that is what you want"
    return 1
  fi
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# Written by scripts/mail-services.sh for the length of one apt-get install.\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  local status=0
  apt_install "$@" || status=$?
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$status" = 0 ] || return "$status"
  local service
  for service in "${new_services[@]}"; do
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
      systemctl disable --now "$service" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$service" ]; then
      "/etc/init.d/$service" stop >/dev/null 2>&1 || true
      update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
  done
}

mail_install() {
  local missing=()
  [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] || missing+=(dovecot-imapd)
  [ -x /usr/lib/dovecot/lmtp ] || missing+=(dovecot-lmtpd)
  [ -x /usr/sbin/smtpd ] || missing+=(opensmtpd)
  [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v unshare >/dev/null && command -v nsenter >/dev/null || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian's ${missing[*]}"
    install_packages "${missing[@]}"
  fi
  if ! getent passwd "$MAIL_SYSTEM_USER" >/dev/null; then
    log "creating the system user $MAIL_SYSTEM_USER for mail storage"
    useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$MAIL_SYSTEM_USER"
  fi
}

# --- shared state: TLS certificate, DKIM keys, users -------------------------------------------------------------

# Writes a file through a temporary name, so a concurrent reader never sees half of it.
write_atomically() {
  local file=$1 tmp
  tmp="$(mktemp "$file.XXXXXX")"
  cat >"$tmp"
  chmod "${2:-644}" "$tmp"
  mv -f "$tmp" "$file"
}

tls_certificate() {
  [ -s "$TLS_DIR/cert.pem" ] && [ -s "$TLS_DIR/key.pem" ] && return
  mkdir -p "$TLS_DIR"
  local tmp
  tmp="$(mktemp -d "$TLS_DIR/.new.XXXXXX")"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$MAIL_HOSTNAME" \
    -addext "subjectAltName=DNS:$MAIL_HOSTNAME,DNS:localhost,IP:127.0.0.1" \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
  chmod 644 "$tmp/cert.pem"
  chmod 600 "$tmp/key.pem"
  mv -f "$tmp/key.pem" "$TLS_DIR/key.pem"
  mv -f "$tmp/cert.pem" "$TLS_DIR/cert.pem"
  rmdir "$tmp"
}

dkim_keys() {
  local domain file
  mkdir -p "$DKIM_DIR"
  for domain in $MAIL_DKIM_DOMAINS; do
    file="$DKIM_DIR/$domain.$MAIL_DKIM_SELECTOR.pem"
    [ -s "$file" ] && continue
    log "generating the DKIM key $file"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | write_atomically "$file" 600
  done
}

# The users of the Dovecot on MAIL_IMAP_PORT: one passwd-file per address, users/<address>, holding the line
# `<address>:{SHA512-CRYPT}<hash>::::::`. Dovecot checks a passwd-file for changes at most once a second and keeps
# what it read until then; a file it has never read (a new user) is read at the first login, so a new user needs no
# restart and no wait. A changed password waits for the next second (below).
users_init() {
  mkdir -p "$USERS_DIR"
  chgrp dovecot "$USERS_DIR"
  chmod 750 "$USERS_DIR"
}

user_addresses() { find "$USERS_DIR" -mindepth 1 -maxdepth 1 -type f -name '*@*' -printf '%f\n' | sort; }

# The SMTP server's tables, from the users: the addresses it accepts mail for (a list), and the system user that
# delivers each (a mapping). smtpd types a table by its lines and refuses an empty one: with no user yet, an
# address in the reserved .invalid domain stands in.
smtp_tables() {
  mkdir -p "$SMTP_STATE"
  {
    echo "# Generated from $USERS_DIR by scripts/mail-services.sh"
    echo "nobody@no-users.invalid"
    user_addresses
  } | write_atomically "$SMTP_STATE/recipients"
  {
    echo "# Generated from $USERS_DIR by scripts/mail-services.sh"
    echo "nobody@no-users.invalid $MAIL_SYSTEM_USER"
    user_addresses | awk -v user="$MAIL_SYSTEM_USER" '{print $1, user}'
  } | write_atomically "$SMTP_STATE/virtuals"
}

add_user() {
  local address=$1 password hash salt file old_mtime written
  address="$(printf '%s' "$address" | tr '[:upper:]' '[:lower:]')"
  if ! [[ "$address" =~ ^[^@:/[:space:]]+@[^@:/[:space:]]+$ ]] || [[ "$address" == .* ]]; then
    log "add-user: '$address' is not an address (local@domain, without ':', '/' or spaces)"
    return 2
  fi
  IFS= read -r password || true
  [ -n "$password" ] || { log "add-user: give the password on standard input"; return 2; }
  users_init
  file="$USERS_DIR/$address"
  exec 9>"$USERS_DIR/.lock"
  flock 9
  if [ -f "$file" ]; then
    hash="$(cut -d: -f2 "$file")"
    hash="${hash#\{SHA512-CRYPT\}}"
    salt="$(cut -d'$' -f3 <<<"$hash")"
    if [ "$(printf '%s\n' "$password" | openssl passwd -6 -salt "$salt" -stdin)" = "$hash" ]; then
      exec 9>&-
      return 0
    fi
    old_mtime="$(stat -c %Y "$file")"
  fi
  hash="$(printf '%s\n' "$password" | openssl passwd -6 -stdin)"
  echo "$address:{SHA512-CRYPT}$hash::::::" | write_atomically "$file" 640
  chgrp dovecot "$file"
  written="$(date +%s)"
  if [ -n "${old_mtime:-}" ]; then
    # Dovecot rereads the file when its mtime (seconds) or size differs from what it read, and checks at most once a
    # second: the mtime must move (a new hash has the old one's length), and the next login must fall in a later
    # second than any check that may have read the old password.
    [ "$(stat -c %Y "$file")" != "$old_mtime" ] || touch -d "@$((old_mtime + 1))" "$file"
    while [ "$(date +%s)" -le "$written" ]; do sleep 0.05; done
  else
    smtp_tables
    smtp_update_tables
  fi
  exec 9>&-
}

# --- imap (Dovecot) ----------------------------------------------------------------------------------------------

# One config for both Dovecot instances: "plain" serves IMAP without TLS and LMTP; "tls" serves IMAP with STARTTLS
# and IMAPS on the same users and maildirs. (Dovecot offers STARTTLS on every IMAP listener of an address once ssl
# is on; the plain port must not, or clients that upgrade when offered fail on the self-signed certificate.)
dovecot_config() {
  local instance=$1 uid gid
  uid="$(id -u "$MAIL_SYSTEM_USER")"
  gid="$(id -g "$MAIL_SYSTEM_USER")"
  cat <<CONF
# Generated by scripts/mail-services.sh; edit the script, not this file.
instance_name = switchboard-$instance-$MAIL_IMAP_PORT
base_dir = $IMAP_STATE/run-$instance
state_dir = $IMAP_STATE/state-$instance
log_path = $IMAP_STATE/dovecot-$instance.log
listen = $MAIL_HOST
auth_mechanisms = plain login
# Plain text logins on loopback are the point of the plain port; the TLS instance allows them too, before STARTTLS,
# so a test can tell "wrong password" from "TLS required".
disable_plaintext_auth = no
# A wrong password is answered at once (normally after 2 s), and the next login from the address is not held back
# by the penalty for failed ones (2 to 15 s, login_trusted_networks or not): the auth process turns the penalty off
# when anvil's penalty socket does not exist, and mode 0 keeps the master from creating it. The tests of failed
# logins need not wait.
auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
mail_uid = $MAIL_SYSTEM_USER
mail_gid = $MAIL_SYSTEM_USER
first_valid_uid = $uid
last_valid_uid = $uid
first_valid_gid = $gid
last_valid_gid = $gid
mail_location = maildir:~/Maildir
# Mail delivered by LMTP shows up in an IDLE session at once (inotify); this is the fallback check.
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 1 mins
# The tests open many sessions from one address.
mail_max_userip_connections = 200
recipient_delimiter = +
# The topmost Received header stays the SMTP server's, the one ingest reads the client's IP and HELO from.
lmtp_add_received_header = no
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT $USERS_DIR/%Lu
}
userdb {
  driver = passwd-file
  args = $USERS_DIR/%Lu
  default_fields = uid=$uid gid=$gid home=$IMAP_STATE/maildirs/%d/%n
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
}
CONF
  if [ "$instance" = plain ]; then
    cat <<CONF
protocols = imap lmtp
ssl = no
service imap-login {
  inet_listener imap {
    port = $MAIL_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    port = $MAIL_LMTP_PORT
  }
}
CONF
  else
    cat <<CONF
protocols = imap
ssl = yes
ssl_cert = <$TLS_DIR/cert.pem
ssl_key = <$TLS_DIR/key.pem
service imap-login {
  inet_listener imap {
    port = $MAIL_IMAP_STARTTLS_PORT
  }
  inet_listener imaps {
    port = $MAIL_IMAPS_PORT
    ssl = yes
  }
}
CONF
  fi
}

imap_ready() {
  [ "$(greeting "$MAIL_IMAP_PORT" 4)" = "* OK" ] && [ "$(greeting "$MAIL_LMTP_PORT" 3)" = 220 ] &&
    [ "$(greeting "$MAIL_IMAP_STARTTLS_PORT" 4)" = "* OK" ] && port_open "$MAIL_HOST" "$MAIL_IMAPS_PORT"
}

imap_start() {
  mail_install
  tls_certificate
  users_init
  mkdir -p "$IMAP_STATE/maildirs"
  chown "$MAIL_SYSTEM_USER:$MAIL_SYSTEM_USER" "$IMAP_STATE/maildirs"
  chmod 700 "$IMAP_STATE/maildirs"
  local instance ports
  for instance in plain tls; do
    running_pid "$IMAP_STATE/dovecot-$instance.pid" >/dev/null && continue
    if [ "$instance" = plain ]; then ports="$MAIL_IMAP_PORT $MAIL_LMTP_PORT"; else ports="$MAIL_IMAP_STARTTLS_PORT $MAIL_IMAPS_PORT"; fi
    for port in $ports; do check_port_free "Dovecot" "$port"; done
    mkdir -p "$IMAP_STATE/run-$instance" "$IMAP_STATE/state-$instance"
    # A stale penalty socket would be retried for ten seconds before the first login (see dovecot_config).
    rm -f "$IMAP_STATE/run-$instance/anvil-auth-penalty"
    dovecot_config "$instance" | write_atomically "$IMAP_STATE/dovecot-$instance.conf"
    spawn "$IMAP_STATE/dovecot-$instance.pid" "$IMAP_STATE/dovecot-$instance.out" \
      /usr/sbin/dovecot -F -c "$IMAP_STATE/dovecot-$instance.conf"
  done
  wait_until Dovecot "$IMAP_STATE/dovecot-plain.pid" "$IMAP_STATE/dovecot-plain.log" imap_ready
}

imap_stop() {
  stop_pidfile "Dovecot (TLS)" "$IMAP_STATE/dovecot-tls.pid"
  stop_pidfile Dovecot "$IMAP_STATE/dovecot-plain.pid"
}

imap_endpoint() {
  echo "IMAP     imap://$MAIL_HOST:$MAIL_IMAP_PORT (no TLS), STARTTLS on $MAIL_IMAP_STARTTLS_PORT, imaps://$MAIL_HOST:$MAIL_IMAPS_PORT (self-signed: $TLS_DIR/cert.pem); LMTP $MAIL_HOST:$MAIL_LMTP_PORT"
}
imap_status() { imap_ready; }

doveadm_run() { doveadm -c "$IMAP_STATE/dovecot-plain.conf" "$@"; }

clear_mailbox() {
  local address
  address="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')"
  # A user who never received mail has no folder to empty.
  [ -d "$IMAP_STATE/maildirs/${address#*@}/${address%@*}" ] || return 0
  doveadm_run expunge -u "$address" mailbox '*' all
}

# --- smtp (OpenSMTPD) --------------------------------------------------------------------------------------------

smtp_config() {
  cat <<CONF
# Generated by scripts/mail-services.sh; edit the script, not this file.
table recipients file:$SMTP_STATE/recipients
table virtuals file:$SMTP_STATE/virtuals
# Larger than any mailbox limit the tests set (the email tests send a 30 MB message to see it refused by the reader).
smtp max-message-size 64M
listen on $MAIL_HOST port $MAIL_SMTP_PORT hostname $MAIL_HOSTNAME
# Mail for a user's address (a +tag after the local part matches too) is handed to Dovecot's LMTP with the address
# as it came; any other recipient, of a user's domain or another, is refused at RCPT with 550: nothing is relayed.
# OpenSMTPD's own LMTP delivery, not a relay to an LMTP host, whose sessions wait up to seconds between deliveries.
# That delivery writes Return-Path and Delivered-To lines above the message; Dovecot writes both again, so the
# wrapper drops OpenSMTPD's and the message reads as from any MTA in front of Dovecot: Return-Path, Delivered-To,
# then OpenSMTPD's Received.
mda wrapper "dovecot-headers" "sed -e '1{/^Return-Path: /d;}' -e '2{/^Delivered-To: /d;}' | %{mda}"
action "mailboxes" lmtp "$MAIL_HOST:$MAIL_LMTP_PORT" rcpt-to virtual <virtuals> wrapper "dovecot-headers"
match from any for rcpt-to <recipients> action "mailboxes"
CONF
}

smtp_ready() { [ "$(greeting "$MAIL_SMTP_PORT" 3)" = 220 ]; }

smtp_start() {
  mail_install
  users_init
  smtp_tables
  mkdir -p "$SMTP_STATE/spool" "$SMTP_STATE/run"
  # smtpd creates its queue folders inside with their owners and modes; the root must be root's, 0711.
  chmod 711 "$SMTP_STATE/spool"
  smtp_config | write_atomically "$SMTP_STATE/smtpd.conf"
  if ! running_pid "$SMTP_STATE/smtpd.pid" >/dev/null; then
    check_port_free OpenSMTPD "$MAIL_SMTP_PORT"
    /usr/sbin/smtpd -n -f "$SMTP_STATE/smtpd.conf" >/dev/null 2>"$SMTP_STATE/config-check.out" || {
      log "OpenSMTPD refused its config:"
      cat "$SMTP_STATE/config-check.out" >&2
      return 1
    }
    # The mount points must exist on the host; they stay empty there.
    mkdir -p /var/spool/smtpd
    spawn "$SMTP_STATE/smtpd.pid" "$SMTP_STATE/smtpd.log" unshare --mount --propagation private \
      bash -c 'mount --bind "$1" /var/spool/smtpd && mount --bind "$2" /run && exec /usr/sbin/smtpd -d -f "$3"' \
      smtpd "$SMTP_STATE/spool" "$SMTP_STATE/run" "$SMTP_STATE/smtpd.conf"
  fi
  wait_until OpenSMTPD "$SMTP_STATE/smtpd.pid" "$SMTP_STATE/smtpd.log" smtp_ready
}

# A running SMTP server rereads its tables (a new user) without a restart.
smtp_update_tables() {
  local pid
  pid="$(running_pid "$SMTP_STATE/smtpd.pid")" || return 0
  nsenter --target "$pid" --mount /usr/sbin/smtpctl update table recipients >/dev/null
  nsenter --target "$pid" --mount /usr/sbin/smtpctl update table virtuals >/dev/null
}

smtp_stop() { stop_pidfile OpenSMTPD "$SMTP_STATE/smtpd.pid"; }
smtp_endpoint() { echo "SMTP     smtp://$MAIL_HOST:$MAIL_SMTP_PORT (no TLS, no auth; delivers to LMTP $MAIL_LMTP_PORT)"; }
smtp_status() { smtp_ready; }

# --- dns (dnsmasq) -----------------------------------------------------------------------------------------------

# The DKIM keys' public halves as TXT records. A 2048-bit key's record is longer than the 255 bytes one TXT string
# may hold: it is published as several strings, which verifiers join.
dkim_records() {
  local domain file value i
  echo "# Generated by scripts/mail-services.sh from $DKIM_DIR"
  for domain in $MAIL_DKIM_DOMAINS; do
    file="$DKIM_DIR/$domain.$MAIL_DKIM_SELECTOR.pem"
    value="v=DKIM1; k=rsa; p=$(openssl pkey -in "$file" -pubout -outform DER 2>/dev/null | base64 -w0)"
    printf 'txt-record=%s._domainkey.%s' "$MAIL_DKIM_SELECTOR" "$domain"
    for ((i = 0; i < ${#value}; i += 250)); do printf ',"%s"' "${value:i:250}"; done
    echo
  done
}

dns_config() {
  cat <<CONF
# Generated by scripts/mail-services.sh; the records are in scripts/mail/dns-records.conf.
port=$MAIL_DNS_PORT
listen-address=$MAIL_HOST
bind-interfaces
no-resolv
no-hosts
no-poll
no-negcache
local=/test/
log-facility=-
pid-file=
conf-file=$ROOT/scripts/mail/dns-records.conf
conf-file=$DNS_STATE/dkim.conf
CONF
  # Records a test adds for itself (test/support/mail-services.ts), read on the next start.
  [ -f "$DNS_STATE/extra.conf" ] && echo "conf-file=$DNS_STATE/extra.conf"
  return 0
}

# A DNS query over UDP for the TXT record of pass.test: the answer must carry our id, no error and an answer.
dns_ready() {
  local reply
  reply="$(
    exec 2>/dev/null 3<>"/dev/udp/$MAIL_HOST/$MAIL_DNS_PORT" || exit 1
    printf '\x5b\x5b\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04pass\x04test\x00\x00\x10\x00\x01' >&3
    timeout 1 head -c 12 <&3 | od -An -tx1 | tr -d ' \n'
  )" || return 1
  # id 5b5b, then the flags' low nibble (rcode) 0, then an answer count above zero.
  [[ "$reply" =~ ^5b5b..[0-9a-f]0....([0-9a-f]{4}) ]] && [ "${BASH_REMATCH[1]}" != 0000 ]
}

dns_start() {
  mail_install
  dkim_keys
  mkdir -p "$DNS_STATE"
  dkim_records | write_atomically "$DNS_STATE/dkim.conf"
  dns_config | write_atomically "$DNS_STATE/dnsmasq.conf"
  if ! running_pid "$DNS_STATE/dnsmasq.pid" >/dev/null; then
    check_port_free dnsmasq "$MAIL_DNS_PORT"
    /usr/sbin/dnsmasq --test -C "$DNS_STATE/dnsmasq.conf" >/dev/null 2>"$DNS_STATE/config-check.out" || {
      log "dnsmasq refused its config:"
      cat "$DNS_STATE/config-check.out" >&2
      return 1
    }
    spawn "$DNS_STATE/dnsmasq.pid" "$DNS_STATE/dnsmasq.log" /usr/sbin/dnsmasq --keep-in-foreground -C "$DNS_STATE/dnsmasq.conf"
  fi
  wait_until dnsmasq "$DNS_STATE/dnsmasq.pid" "$DNS_STATE/dnsmasq.log" dns_ready
}

dns_stop() { stop_pidfile dnsmasq "$DNS_STATE/dnsmasq.pid"; }
dns_endpoint() { echo "DNS      $MAIL_HOST:$MAIL_DNS_PORT (udp, tcp; DKIM selector $MAIL_DKIM_SELECTOR, keys in $DKIM_DIR)"; }
dns_status() { dns_ready; }

# --- main --------------------------------------------------------------------------------------------------------

command="${1:-}"
shift || true

case "$command" in
  add-user)
    [ $# = 1 ] || { echo "usage: $0 add-user ADDRESS  (password on standard input)" >&2; exit 2; }
    add_user "$1"
    exit
    ;;
  clear-mailbox)
    [ $# = 1 ] || { echo "usage: $0 clear-mailbox ADDRESS" >&2; exit 2; }
    clear_mailbox "$1"
    exit
    ;;
  doveadm)
    doveadm_run "$@"
    exit
    ;;
esac

services=("$@")
[ ${#services[@]} = 0 ] && services=(dns imap smtp)
for s in "${services[@]}"; do
  case "$s" in imap | smtp | dns) ;; *) log "unknown service '$s' (imap, smtp, dns)"; exit 2 ;; esac
done

case "$command" in
  install) mail_install ;;
  start)
    for s in "${services[@]}"; do "${s}_start"; done
    for s in "${services[@]}"; do "${s}_endpoint"; done
    ;;
  stop) for s in "${services[@]}"; do "${s}_stop"; done ;;
  restart)
    for s in "${services[@]}"; do "${s}_stop"; done
    for s in "${services[@]}"; do "${s}_start"; done
    ;;
  status)
    down=0
    for s in "${services[@]}"; do
      if "${s}_status"; then echo "up    $("${s}_endpoint")"; else echo "down  $("${s}_endpoint")"; down=1; fi
    done
    exit "$down"
    ;;
  *)
    echo "usage: $0 install|start|stop|restart|status [imap|smtp|dns ...] | add-user ADDRESS | clear-mailbox ADDRESS | doveadm ARGS..." >&2
    exit 2
    ;;
esac
