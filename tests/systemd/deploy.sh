#!/bin/sh
# A deploy through a symlink under a real systemd, booted in a
# throw-away container with tests/systemd/sdct after "make install
# DESTDIR=...": the shipped pitchfork@.service with a drop-in
# WorkingDirectory=/srv/app/current serves releases/1; the symlink is
# switched to releases/2 and "systemctl reload" rolls the service over
# to it under a request loop without a failed request.  Each release
# locks another version of a gem (built here, no network), so the same
# reload is a gem upgrade.  pitchfork@app keeps the shipped
# DynamicUser=, which dbus-daemon refuses (systemd issue 22737), so its
# drop-in names the directory in PITCHFORK_WORKING_DIRECTORY= too, as
# pitchfork@.service(8) says; pitchfork@web runs as a static User= and
# asks systemd for WorkingDirectory= over D-Bus, in the hardened unit.
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/systemd/lib-container.sh"
. "$top_srcdir/tests/lib-gems.sh"
command -v gem >/dev/null 2>&1 || skip_all "gem not found"
command -v bundle >/dev/null 2>&1 || skip_all "bundle not found (Debian: bundler)"
command -v dbus-daemon >/dev/null 2>&1 ||
    skip_all "dbus-daemon not found (Debian package dbus): no system bus in the container"
ct_prefix
plan 13

ct_setup pfdeploy
# body INSTANCE: the answer of pitchfork@INSTANCE
body() {
    in_ct curl -sS -m 10 --unix-socket "/run/pitchfork/$1.sock" http://localhost/
}
# only_body INSTANCE TEXT: six answers in a row are TEXT (every worker's)
only_body() {
    for i in 1 2 3 4 5 6; do [ "$(body "$1")" = "$2" ] || return 1; done
}

# ---- the gems and the releases, on the host -------------------------------
SYSTEM_GEM_PATH=$(ruby -e 'print Gem.path.join(":")')
export GEM_HOME="$T/srv/gems"
export GEM_PATH="$GEM_HOME:$SYSTEM_GEM_PATH"
export BUNDLE_USER_HOME="$T/bundle-home" BUNDLE_USER_CONFIG="$T/bundle-config"
unset BUNDLE_GEMFILE BUNDLE_WITHOUT BUNDLE_PATH BUNDLE_DEPLOYMENT BUNDLE_FROZEN
unset RUBYOPT
# greet VERSION: build and install the gem greet at VERSION in GEM_HOME
greet() {
    mkdir -p "$T/src/greet-$1/lib"
    echo "module Greet; VERSION = \"$1\"; end" >"$T/src/greet-$1/lib/greet.rb"
    gem_install greet "$1" "$T/src/greet-$1"
}
# release N VERSION: /srv/app/releases/N, locked to greet VERSION
release() {
    d=$T/srv/app/releases/$1
    mkdir -p "$d"
    printf 'source "https://rubygems.org"\ngem "rack"\ngem "greet", "%s"\n' \
        "$2" >"$d/Gemfile"
    cat >"$d/config.ru" <<EOF
require "greet"
run ->(env) { [200, {}, ["release $1 greet #{Greet::VERSION}"]] }
EOF
    (cd "$d" && bundle lock --local >"$T/lock.out" 2>&1) ||
        { diag "$(cat "$T/lock.out")"; return 1; }
}
greet 1.0.0 && greet 2.0.0 && release 1 1.0.0 && release 2 2.0.0 &&
    ln -s releases/1 "$T/srv/app/current"
ok $? "greet 1.0.0 and 2.0.0 built; releases/1 and releases/2 lock them; current -> releases/1"

# ---- boot: this build over its prefix, the releases and gems as /srv ------
ct_boot --bind-ro="$T/srv:/srv"

# The drop-ins a user writes: the symlink as the working directory
# (and for DynamicUser=, in the environment too); the gems' directory
# for this test (a real deploy installs them in the release, bundle
# install with BUNDLE_DEPLOYMENT).
in_ct sh -c '
d=/etc/systemd/system
mkdir -p $d/pitchfork@.service.d $d/pitchfork@app.service.d $d/pitchfork@web.service.d
printf "[Service]\nWorkingDirectory=/srv/app/current\nEnvironment=PITCHFORK_WORKERS=2\nEnvironment=GEM_PATH=%s\nEnvironment=BUNDLE_USER_HOME=/tmp/bundle\n" "$1" >$d/pitchfork@.service.d/deploy.conf
printf "[Service]\nEnvironment=PITCHFORK_WORKING_DIRECTORY=/srv/app/current\n" >$d/pitchfork@app.service.d/workdir.conf
printf "[Service]\nDynamicUser=no\nUser=nobody\nGroup=nogroup\n" >$d/pitchfork@web.service.d/user.conf
systemctl daemon-reload' sh "/srv/gems:$SYSTEM_GEM_PATH"
ct_sanitizer_dropin
in_ct systemctl start dbus.socket >/dev/null 2>&1
is "$(in_ct systemctl is-active dbus.socket)" active "the container has a system bus"

in_ct systemctl start pitchfork@app pitchfork@web
for i in app web; do
    wait_for has_msg "pitchfork@$i" 'workers ready \(gen 0\)'
done
is "$(body app)" "release 1 greet 1.0.0" "pitchfork@app serves release 1 with greet 1.0.0"
is "$(body web)" "release 1 greet 1.0.0" "so does pitchfork@web"
has_msg pitchfork@app '; working directory /srv/app/current \(working_directory\)$'
ok $? "pitchfork@app: PITCHFORK_WORKING_DIRECTORY= names the symlink"
has_msg pitchfork@web "; working directory /srv/app/current \\(the start directory, as the unit's WorkingDirectory= names it\\)\$"
ok $? "pitchfork@web, hardened but a static user: WorkingDirectory= from systemd over D-Bus"
is "$(in_ct journalctl -b -u pitchfork@web -o json PITCHFORK_WORKING_DIRECTORY=/srv/app/current | wc -l)" \
    1 "journal: the start-up line's PITCHFORK_WORKING_DIRECTORY=/srv/app/current"

# ---- the rollout: switch the symlink, reload under a request loop --------
# loop_start: curl in a loop inside the container until /tmp/dep.stop
# exists; loop_end stops it and sets res to "OK FAILED" (not in a
# $(...) subshell: the loop is not that subshell's child).
loop_start() {
    timeout 120 "$SDCT" exec "$N" sh -c 'ok=0; bad=0; rm -f /tmp/dep.stop
        while [ ! -e /tmp/dep.stop ]; do
            if curl -sSf -m 10 --unix-socket /run/pitchfork/app.sock http://localhost/ >/dev/null 2>>/tmp/dep.err
            then ok=$((ok+1)); else bad=$((bad+1)); fi
        done; echo $ok $bad >/tmp/dep.out' &
    LOOP=$!
    wait_for in_ct test -e /tmp/dep.err
}
loop_end() {
    sleep 0.5 # some requests after the rollout, too
    in_ct touch /tmp/dep.stop
    wait "$LOOP"
    res=$(in_ct cat /tmp/dep.out)
    err=$(in_ct sh -c '[ ! -s /tmp/dep.err ] || head -3 /tmp/dep.err')
}
ln -sfn releases/2 "$T/srv/app/current.new" &&
    mv -T "$T/srv/app/current.new" "$T/srv/app/current"
only_body app "release 1 greet 1.0.0"
ok $? "current -> releases/2: release 1 is served until the reload"
loop_start
in_ct systemctl reload pitchfork@app
wait_for has_msg pitchfork@app 'reload done: every worker is gen 1'
ok $? "systemctl reload pitchfork@app: every worker is gen 1"
loop_end
ok "$(case "$res" in [1-9]*" 0") echo 0 ;; *) echo 1 ;; esac)" \
    "no failed request during the rollout (ok failed: $res)"
[ -z "$err" ] || diag "$err"
only_body app "release 2 greet 2.0.0"
ok $? "every worker serves release 2 with greet 2.0.0: the gem upgraded by a reload"
is "$(in_ct systemctl is-active pitchfork@app)" active "the service is active after the reload"

in_ct systemctl reload pitchfork@web
wait_for has_msg pitchfork@web 'reload done: every worker is gen 1'
only_body web "release 2 greet 2.0.0"
ok $? "systemctl reload pitchfork@web: release 2 with greet 2.0.0 too"

[ "$tap_failed" = 0 ] || dump -u dbus
done_testing
