# Helpers for the tests that boot a real systemd in a throw-away
# container with tests/systemd/sdct after "make install DESTDIR=...".
# Sourced by tests/systemd/*.sh after tests/tap.sh, with top_srcdir and
# top_builddir set; sourcing it skips the test unless sdct,
# systemd-nspawn and nsenter are found and it runs as root.
# SPDX-License-Identifier: MIT
#
#   ct_prefix                  skip unless the build's prefix is /usr or
#                              /usr/local; sets prefix
#   ct_setup NAME              temp dir T, container name N=NAME$$, a trap
#                              that stops the container and removes T
#   ct_boot ARGS...            make install DESTDIR=$T/inst, boot N with
#                              this build over $prefix and ARGS (such as
#                              --bind-ro=...); bails out when either fails
#   ct_sanitizer_dropin        in a sanitizer build, no leak check in the
#                              units (LeakSanitizer needs ptrace)
#   in_ct CMD...               CMD in the container, at most CT_TIMEOUT s
#                              (30; a test may set it after sourcing)
#   journal MATCH...           this boot's journal entries, verbose
#   msgs MATCH...              their messages alone
#   has_msg UNIT REGEX         a message of UNIT matches REGEX
#   status_has UNIT REGEX      UNIT's StatusText matches REGEX
#   prop_is UNIT PROP VALUE    UNIT's property PROP is VALUE
#   wait_for CMD...            retry CMD (every 0.2 s) for at most 30 s
#   dump [ARGS...]             diag the last CT_DUMP_LINES (60, likewise)
#                              journal lines of pitchfork@*, journalctl
#                              ARGS added (such as -u dbus)

SDCT=${SDCT:-$top_srcdir/tests/systemd/sdct}
CT_TIMEOUT=30
CT_DUMP_LINES=60
[ -x "$SDCT" ] || skip_all "sdct not found at $SDCT"
command -v systemd-nspawn >/dev/null 2>&1 ||
    skip_all "systemd-nspawn not found (Debian package systemd-container)"
command -v nsenter >/dev/null 2>&1 || skip_all "nsenter not found"
[ "$(id -u)" = 0 ] || skip_all "booting a container needs root"

# The container overlays the build's prefix on its own: only a prefix
# under /usr holds units a booted systemd reads (make distcheck installs
# into a scratch prefix).
ct_prefix() {
    prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
    case "$prefix" in
    /usr | /usr/local) ;;
    *) skip_all "prefix $prefix is not /usr or /usr/local: systemd would not see the units" ;;
    esac
}

ct_setup() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
    N=$1$$
    BOOTED=""
    trap ct_cleanup EXIT
    trap 'exit 1' INT TERM HUP
}

ct_cleanup() {
    [ -z "$BOOTED" ] || SDCT_FAST_STOP=1 "$SDCT" stop "$N" >/dev/null 2>&1
    rm -rf "$T"
}

# Install into $T, as a package would, with the build's prefix; boot
# with the host's /usr read-only and this build over its prefix.
ct_boot() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" install \
        DESTDIR="$T/inst" >"$T/install.log" 2>&1 ||
        { diag "$(tail -20 "$T/install.log")"; echo "Bail out! make install"; exit 1; }
    if ! SDCT_FAST_STOP=1 "$SDCT" boot "$N" host --private-network \
        --overlay-ro="$prefix:$T/inst$prefix:$prefix" "$@" >"$T/boot.log" 2>&1; then
        diag "$(tail -20 "$T/boot.log")"
        echo "Bail out! the container did not boot"
        exit 1
    fi
    BOOTED=1
}

# LeakSanitizer stops the world with ptrace, which the unit's
# SystemCallFilter= forbids, so its exit-time check would spin.
ct_sanitizer_dropin() {
    [ -n "$(sed -n 's/^SANITIZER_CFLAGS = //p' "$top_builddir/Makefile")" ] || return 0
    in_ct sh -c 'd=/etc/systemd/system/pitchfork@.service.d
        mkdir -p $d && printf "[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n" >$d/asan.conf &&
        systemctl daemon-reload'
}

in_ct() { timeout "$CT_TIMEOUT" "$SDCT" exec "$N" "$@"; }
journal() { in_ct journalctl -b --no-pager -o verbose "$@" 2>/dev/null; }
msgs() { in_ct journalctl -b --no-pager -o cat "$@" 2>/dev/null; }
has_msg() { u=$1; shift; msgs -u "$u" | grep -E -q -- "$*"; }
status_has() { in_ct systemctl show -P StatusText "$1" | grep -E -q -- "$2"; }
prop_is() { [ "$(in_ct systemctl show -P "$2" "$1")" = "$3" ]; }

wait_for() {
    i=0
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt 150 ] || return 1
        sleep 0.2
    done
}

dump() {
    diag "$(in_ct journalctl -b --no-pager -n "$CT_DUMP_LINES" -u 'pitchfork@*' "$@" 2>&1)"
}
