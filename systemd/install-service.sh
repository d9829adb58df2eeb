#!/bin/sh
# Installs wampgate as a systemd service: the system user, /etc/wampgate, the unit (with
# ExecStart= pointing at the real binary), daemon-reload, enable. Idempotent: running it again
# changes only what differs. Does not write config.json or secrets, and does not start the
# service unless --start is given.
#
# Usage: sudo systemd/install-service.sh [--dry-run] [--exec /path/to/wampgate] [--start]
#                                        [--unit-dir /etc/systemd/system] [--no-enable]
set -eu

DRY_RUN=0
START=0
ENABLE=1
EXEC=""
UNIT_DIR=/etc/systemd/system
SERVICE_USER=wampgate
CONF_DIR=/etc/wampgate
CRED_DIR=/etc/wampgate/credentials
CREDSTORE_ENC=/etc/credstore.encrypted
HERE=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
UNIT_SRC="$HERE/wampgate.service"

usage() { sed -n '8,9p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --start) START=1 ;;
    --no-enable) ENABLE=0 ;;
    --exec) shift; EXEC=${1:?--exec needs a path} ;;
    --exec=*) EXEC=${1#--exec=} ;;
    --unit-dir) shift; UNIT_DIR=${1:?--unit-dir needs a path} ;;
    --unit-dir=*) UNIT_DIR=${1#--unit-dir=} ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-service: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# Every change goes through run(): printed always, executed unless --dry-run.
run() {
  if [ "$DRY_RUN" = 1 ]; then echo "would run: $*"; else echo "+ $*"; "$@"; fi
}
note() { echo "$*"; }

if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
  echo "install-service: run as root (or with --dry-run to see what it would do)" >&2
  exit 1
fi
[ -f "$UNIT_SRC" ] || { echo "install-service: $UNIT_SRC not found" >&2; exit 1; }

# 1. The binary. An absolute path in ExecStart= survives PATH differences between the shell and
#    systemd (npm -g may install to /usr/local/bin or a prefix systemd does not search).
if [ -z "$EXEC" ]; then
  EXEC=$(command -v wampgate 2>/dev/null || true)
fi
if [ -n "$EXEC" ]; then
  case "$EXEC" in /*) ;; *) echo "install-service: --exec must be an absolute path" >&2; exit 2 ;; esac
  [ -x "$EXEC" ] || [ "$DRY_RUN" = 1 ] || { echo "install-service: $EXEC is not executable" >&2; exit 1; }
  note "ExecStart binary: $EXEC"
else
  note "wampgate not found in PATH; keeping ExecStart=/usr/bin/env wampgate"
fi

# 2. System user and group; dialout membership comes from SupplementaryGroups= in the unit.
if getent passwd "$SERVICE_USER" >/dev/null 2>&1; then
  note "user $SERVICE_USER exists"
else
  NOLOGIN=$(command -v nologin 2>/dev/null || echo /usr/sbin/nologin)
  run useradd --system --user-group --home-dir /var/lib/wampgate --no-create-home \
    --shell "$NOLOGIN" --comment "wampgate WAMP router" "$SERVICE_USER"
fi

# 3. Config directory (group-readable by the service) and the credentials directory that
#    LoadCredential= reads as root: the service itself never sees it, only the copies.
if [ -d "$CONF_DIR" ]; then note "$CONF_DIR exists"; else run install -d -m 0750 -o root -g "$SERVICE_USER" "$CONF_DIR"; fi
if [ -d "$CRED_DIR" ]; then note "$CRED_DIR exists"; else run install -d -m 0700 -o root -g root "$CRED_DIR"; fi
# Where `systemd-creds encrypt` output goes (systemd >= 254 also searches it by itself).
if [ -d "$CREDSTORE_ENC" ]; then note "$CREDSTORE_ENC exists"; else run install -d -m 0700 -o root -g root "$CREDSTORE_ENC"; fi
[ -f "$CONF_DIR/config.json" ] || note "note: $CONF_DIR/config.json does not exist yet; the service will not start without it"

# 4. The unit, rendered to a temp file and installed only when it differs.
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT
if [ -n "$EXEC" ]; then
  sed "s#^ExecStart=/usr/bin/env wampgate #ExecStart=$EXEC #" "$UNIT_SRC" >"$TMP"
else
  cp "$UNIT_SRC" "$TMP"
fi
note "unit $(grep '^ExecStart=' "$TMP")"
UNIT_DST="$UNIT_DIR/wampgate.service"
CHANGED=0
if [ -f "$UNIT_DST" ] && cmp -s "$TMP" "$UNIT_DST"; then
  note "$UNIT_DST is up to date"
else
  run install -D -m 0644 "$TMP" "$UNIT_DST"
  CHANGED=1
fi

# 5. Tell systemd. Skipped where systemd is not PID 1 (containers, chroots, image builds).
if [ -d /run/systemd/system ] || [ "$DRY_RUN" = 1 ]; then
  if [ "$CHANGED" = 1 ]; then run systemctl daemon-reload; fi
  if [ "$ENABLE" = 1 ]; then
    if [ "$DRY_RUN" = 0 ] && systemctl is-enabled --quiet wampgate.service 2>/dev/null; then note "wampgate.service is enabled"
    else run systemctl enable wampgate.service; fi
  fi
  if [ "$START" = 1 ]; then run systemctl restart wampgate.service; fi
else
  note "systemd is not running here; skipped daemon-reload/enable (run them on the target)"
fi
note "done. Logs: journalctl -u wampgate -f"
