#!/bin/sh
# The units: "systemd-analyze verify" is clean (with ExecStart= pointing
# at the built binary and the man pages of this tree), the service has
# every setting the design requires, and "systemd-analyze security"
# rates its exposure at 2.5 or less.
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/tap.sh"

command -v systemd-analyze >/dev/null 2>&1 || skip_all "systemd-analyze not found"
UNIT=$top_builddir/systemd/pitchfork@.service
[ -f "$UNIT" ] || skip_all "$UNIT not built"
plan 6

T=$(mktemp -d "${TMPDIR:-/tmp}/pfunits.XXXXXX") || exit 1
# systemd-analyze leaves this behind on a host whose PID 1 is not systemd
had_load=$([ -e /run/systemd/systemd-units-load ] && echo 1)
cleanup() {
    rm -rf "$T"
    [ -n "$had_load" ] || rm -f /run/systemd/systemd-units-load 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

sed "s|^ExecStart=.*/pitchfork|ExecStart=$top_builddir/src/pitchfork|" \
    "$UNIT" >"$T/pitchfork@.service"
cp "$top_srcdir/systemd/pitchfork@.socket" "$T/"
for m in "$top_srcdir"/man/*.[1-8]; do
    s=${m##*.}
    mkdir -p "$T/man/man$s" && ln -s "$m" "$T/man/man$s/"
done

# Warnings about the host's own units are not ours: keep our lines only.
out=$(cd "$T" && MANPATH=$T/man timeout 60 systemd-analyze verify \
    ./pitchfork@app.service ./pitchfork@app.socket 2>&1)
st=$?
mine=$(printf '%s\n' "$out" | grep pitchfork)
ok "$([ "$st" = 0 ] && [ -z "$mine" ] && echo 0 || echo 1)" \
    "systemd-analyze verify is clean"
[ -z "$mine" ] || diag "$mine"

has() { grep -q -x -- "$1" "$T/pitchfork@.service"; }
missing=""
for line in Type=notify NotifyAccess=main 'ExecReload=/bin/kill -HUP $MAINPID' \
    KillMode=mixed KillSignal=SIGTERM Restart=on-failure \
    'WorkingDirectory=/srv/%i' 'EnvironmentFile=-/etc/pitchfork/%i.conf' \
    'Wants=pitchfork@%i.socket' ProtectSystem=strict ProtectHome=yes \
    PrivateTmp=yes PrivateDevices=yes NoNewPrivileges=yes \
    ProtectKernelTunables=yes ProtectKernelModules=yes \
    SystemCallFilter=@system-service; do
    has "$line" || missing="$missing [$line]"
done
is "$missing" "" "the service has the required settings"
grep -q -x 'After=.*pitchfork@%i.socket.*' "$T/pitchfork@.service"
ok $? "and is ordered after its socket"
stop=$(sed -n 's/^TimeoutStopSec=//p' "$T/pitchfork@.service")
ok "$([ "${stop:-0}" -gt 30 ] && echo 0 || echo 1)" \
    "TimeoutStopSec ($stop) is above timeout + cleanup (20 + 10 s by default)"
grep -q -x 'FileDescriptorName=http' "$T/pitchfork@.socket"
ok $? "the socket is named http"

score=$(cd "$T" && timeout 60 systemd-analyze security --offline=true \
    ./pitchfork@app.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for pitchfork@app.service: \([0-9.]*\).*/\1/p')
ok "$(awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.5) }'; echo $?)" \
    "systemd-analyze security: exposure $score <= 2.5"
done_testing
