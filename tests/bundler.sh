#!/bin/sh
# An application with a Gemfile is served with its bundle's gems, rack
# included, whether config.ru requires bundler/setup or not and under
# bundle exec; BUNDLE_WITHOUT, BUNDLE_PATH and BUNDLE_DEPLOYMENT apply;
# the configuration file sees the bundle's gems; a gem the bundle lacks
# stops the boot with the Gemfile and the gem named; a reload (HUP) after
# a new Gemfile.lock serves the new version without a failed request,
# and under bundle exec in a release behind a symlink, the new release's.
# The gems are built here (a copy of the system's rack under a lower
# version, two versions of a small gem) and installed in the test's own
# directory: no network.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-gems.sh"

command -v gem >/dev/null 2>&1 || skip_all "gem not found"
command -v bundle >/dev/null 2>&1 || skip_all "bundle not found (Debian: bundler)"

plan 29

# ---- the gems: rack at a version below the system's, greet 1.0.0 and 2.0.0
SYSTEM_RACK_DIR=$(ruby -e 'print Gem::Specification.find_by_name("rack").gem_dir')
SYSTEM_RACK=$(ruby -e 'print Gem::Specification.find_by_name("rack").version')
PINNED=$(ruby -e 's = Gem::Version.new(ARGV[0]).segments
  puts(if s[2].to_i > 0 then "#{s[0]}.#{s[1]}.0"
       elsif s[1].to_i > 0 then "#{s[0]}.#{s[1] - 1}.0"
       else "#{s[0] - 1}.0.0" end)' "$SYSTEM_RACK")
SYSTEM_GEM_PATH=$(ruby -e 'print Gem.path.join(":")')
export GEM_HOME="$TMPD/gems"
export GEM_PATH="$GEM_HOME:$SYSTEM_GEM_PATH"
export BUNDLE_USER_HOME="$TMPD/bundle-home" BUNDLE_USER_CONFIG="$TMPD/bundle-config"
unset BUNDLE_GEMFILE BUNDLE_WITHOUT BUNDLE_PATH BUNDLE_DEPLOYMENT BUNDLE_FROZEN
unset RUBYOPT

mkdir -p "$TMPD/src/rack"
cp -R "$SYSTEM_RACK_DIR/lib" "$TMPD/src/rack/" &&
    sed -i "s/RELEASE = \"[^\"]*\"/RELEASE = \"$PINNED\"/" \
        "$TMPD/src/rack/lib/rack/version.rb"
for v in 1 2 3; do
    mkdir -p "$TMPD/src/greet-$v/lib"
    echo "module Greet; VERSION = \"$v.0.0\"; end" >"$TMPD/src/greet-$v/lib/greet.rb"
done
gem_install rack "$PINNED" "$TMPD/src/rack" &&
    gem_install greet 1.0.0 "$TMPD/src/greet-1" &&
    gem_install greet 2.0.0 "$TMPD/src/greet-2" &&
    gem_build greet 3.0.0 "$TMPD/src/greet-3"
ok $? "local gems: rack $PINNED (the system has $SYSTEM_RACK), greet 1.0.0 and 2.0.0 installed, greet 3.0.0 built"

# app_files DIR GEMFILE-LINES...: an application with that Gemfile;
# app DIR GEMFILE-LINES...: the same, locked.
app_files() {
    dir=$1
    shift
    mkdir -p "$dir"
    printf 'source "https://rubygems.org"\n' >"$dir/Gemfile"
    printf '%s\n' "$@" >>"$dir/Gemfile"
    cat >"$dir/config.ru" <<'EOF'
begin
  require "greet"
rescue LoadError
  nil
end
greet = defined?(Greet) ? Greet::VERSION : "none"
run ->(env) { [200, {}, ["rack #{Rack.release} greet #{greet}\n"]] }
EOF
}
app() {
    app_files "$@"
    (cd "$1" && bundle lock --local >"$TMPD/lock.out" 2>&1) ||
        diag "$(cat "$TMPD/lock.out")"
}
body() { hcurl "$(url /)"; }

# ---- the Gemfile decides rack's version, and the configuration file's gems
app "$TMPD/pinned" "gem \"rack\", \"$PINNED\"" 'gem "greet", "1.0.0"'
cat >"$TMPD/pinned/cfg.rb" <<'EOF'
require "greet"
worker_processes Greet::VERSION.to_i + 1
EOF
cd "$TMPD/pinned" || exit 1
start_server "$TMPD/s.sock" -c cfg.rb
is "$(body)" "rack $PINNED greet 1.0.0" "config.ru without bundler/setup: the Gemfile's rack and greet"
wait_for all_gen 0 3
ok $? "the configuration file requires the bundle's greet 1.0.0 (2 workers)"
log_has "bundle $TMPD/pinned/Gemfile set up: rack $PINNED"
ok $? "the mold logs the bundle it set up"
stop_server

{ echo 'require "bundler/setup"'; cat config.ru; } >config2.ru
start_server "$TMPD/s.sock" -w 1 config2.ru
is "$(body)" "rack $PINNED greet 1.0.0" "config.ru that requires bundler/setup first: served, with the Gemfile's rack"
log_has 'already activated'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "no Gem::LoadError about an activated rack"
stop_server

REAL_PITCHFORK=$PITCHFORK
printf '#!/bin/sh\nexec bundle exec "%s" "$@"\n' "$REAL_PITCHFORK" >"$TMPD/bexec"
chmod +x "$TMPD/bexec"
PITCHFORK="$TMPD/bexec" start_server "$TMPD/s.sock" -w 1
is "$(body)" "rack $PINNED greet 1.0.0" "bundle exec pitchfork: the Gemfile's rack and greet"
stop_server
PITCHFORK=$REAL_PITCHFORK

cd "$TMPD" || exit 1
BUNDLE_GEMFILE="$TMPD/pinned/Gemfile" start_server "$TMPD/s.sock" -w 1 "$TMPD/pinned/config.ru"
is "$(body)" "rack $PINNED greet 1.0.0" "BUNDLE_GEMFILE names the Gemfile from another directory"
stop_server
unset BUNDLE_GEMFILE

# ---- Bundler's settings: BUNDLE_WITHOUT, then a deployment in BUNDLE_PATH
app "$TMPD/groups" 'gem "rack"' 'group :extra do' '  gem "greet", "1.0.0"' 'end'
cd "$TMPD/groups" || exit 1
start_server "$TMPD/s.sock" -w 1
is "$(body)" "rack $SYSTEM_RACK greet 1.0.0" "the group's greet 1.0.0 is served"
stop_server
BUNDLE_WITHOUT=extra start_server "$TMPD/s.sock" -w 1
is "$(body)" "rack $SYSTEM_RACK greet none" "BUNDLE_WITHOUT=extra: greet is not loadable"
stop_server
unset BUNDLE_WITHOUT

# greet 3.0.0 is in no gem path: only vendor/cache, then vendor/bundle.
mkdir -p "$TMPD/deploy/vendor/cache"
cp "$TMPD/src/rack/rack-$PINNED.gem" "$TMPD/src/greet-3/greet-3.0.0.gem" \
    "$TMPD/deploy/vendor/cache/"
app_files "$TMPD/deploy" "gem \"rack\", \"$PINNED\"" 'gem "greet", "3.0.0"'
cd "$TMPD/deploy" || exit 1
BUNDLE_PATH=vendor/bundle bundle install --local >"$TMPD/install.out" 2>&1
st=$?
ok $st "bundle install --local into vendor/bundle"
[ "$st" = 0 ] || diag "$(cat "$TMPD/install.out")"
BUNDLE_DEPLOYMENT=true BUNDLE_PATH=vendor/bundle start_server "$TMPD/s.sock" -w 1
is "$(body)" "rack $PINNED greet 3.0.0" "BUNDLE_PATH and BUNDLE_DEPLOYMENT: served from vendor/bundle"
stop_server
unset BUNDLE_DEPLOYMENT BUNDLE_PATH

# ---- a gem the bundle lacks: the boot stops, once, naming it
app "$TMPD/missing" 'gem "rack"' 'gem "greet", "1.0.0"'
sed -i 's/"1.0.0"/"9.9.9"/' "$TMPD/missing/Gemfile"
(cd "$TMPD/missing" && exec timeout "$TIMEOUT" "$PITCHFORK" -w 1 \
    -l "$TMPD/m.sock" >"$SERVER_LOG" 2>&1)
st=$?
ok "$([ "$st" != 0 ] && [ "$st" != 124 ] && echo 0 || echo 1)" "a missing gem: the server exits non-zero ($st)"
log_has "cannot set up the bundle of $TMPD/missing/Gemfile: .*greet \\(= 9.9.9\\)"
ok $? "the log names the Gemfile and the missing gem"
log_has 'run bundle install'
ok $? "and says to run bundle install"
is "$(grep -c 'booting' "$SERVER_LOG")" 1 "one mold booted: no crash loop"

app "$TMPD/norack" 'gem "greet", "1.0.0"'
(cd "$TMPD/norack" && exec timeout "$TIMEOUT" "$PITCHFORK" -w 1 \
    -l "$TMPD/m.sock" >"$SERVER_LOG" 2>&1)
st=$?
ok "$([ "$st" != 0 ] && [ "$st" != 124 ] && echo 0 || echo 1)" "a bundle without rack: the server exits non-zero ($st)"
log_has "the bundle of $TMPD/norack/Gemfile has no rack gem"
ok $? "the log says that the bundle has no rack"

# ---- a gem upgrade is a reload: the new Gemfile.lock serves after HUP
app "$TMPD/v1" 'gem "rack"' 'gem "greet", "1.0.0"'
app "$TMPD/v2" 'gem "rack"' 'gem "greet", "2.0.0"'
mkdir -p "$TMPD/live"
cp "$TMPD/v1/Gemfile" "$TMPD/v1/Gemfile.lock" "$TMPD/v1/config.ru" "$TMPD/live/"
cd "$TMPD/live" || exit 1
only_body() {
    for i in 1 2 3 4 5 6; do [ "$(body)" = "$1" ] || return 1; done
}
start_server "$TMPD/s.sock" -w 2
wait_for all_gen 0 3
only_body "rack $SYSTEM_RACK greet 1.0.0"
ok $? "gen 0 serves greet 1.0.0"
start_loop
cp "$TMPD/v2/Gemfile" Gemfile.new && cp "$TMPD/v2/Gemfile.lock" Gemfile.lock.new &&
    mv Gemfile.new Gemfile && mv Gemfile.lock.new Gemfile.lock
only_body "rack $SYSTEM_RACK greet 1.0.0"
ok $? "a new Gemfile.lock on disk: gen 0 still serves greet 1.0.0"
kill -HUP "$SERVER_PID"
wait_for all_gen 1 3
ok $? "HUP: a new mold and 2 workers, all gen 1"
res=$(stop_loop)
is "${res#* }" 0 "the client loop saw no failed request during the upgrade ($res)"
only_body "rack $SYSTEM_RACK greet 2.0.0"
ok $? "every worker serves greet 2.0.0"

# A bundle broken at reload: the new mold fails, gen 1 keeps serving.
sed -i 's/"2.0.0"/"9.9.9"/' Gemfile
kill -HUP "$SERVER_PID"
wait_for log_has 'the next mold exited with status 1 before it was ready; gen 1 keeps serving'
ok $? "a missing gem at reload: the new mold fails, gen 1 keeps serving"
log_has "cannot set up the bundle of $TMPD/live/Gemfile: .*greet \\(= 9.9.9\\)"
ok $? "and the log names the Gemfile and the gem"
only_body "rack $SYSTEM_RACK greet 2.0.0"
ok $? "the gen 1 workers still serve greet 2.0.0"
stop_server

# ---- bundle exec in a release behind a symlink: BUNDLE_GEMFILE, which
# it sets with the symlink resolved, follows the symlink at a reload.
ln -s v1 "$TMPD/cur"
cd "$TMPD/cur" || exit 1
PITCHFORK="$TMPD/bexec" start_server "$TMPD/s.sock" -w 1
is "$(body)" "rack $SYSTEM_RACK greet 1.0.0" "bundle exec pitchfork in cur -> v1: greet 1.0.0"
log_has "each mold reads $TMPD/cur/Gemfile"
ok $? "BUNDLE_GEMFILE, v1/Gemfile from bundle exec, is named through cur"
ln -sfn v2 "$TMPD/cur.new" && mv -T "$TMPD/cur.new" "$TMPD/cur"
kill -HUP "$SERVER_PID"
wait_for log_has 'reload done: every worker is gen 1'
only_body "rack $SYSTEM_RACK greet 2.0.0"
ok $? "cur -> v2, HUP: the new mold sets up v2's bundle, greet 2.0.0"
stop_server
PITCHFORK=$REAL_PITCHFORK

done_testing
