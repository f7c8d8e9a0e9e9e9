#!/bin/sh
# The newest Rack 3 and Rails 8 that the RubyGems registry serves, as an
# application's Gemfile brings them in: Bundler installs them into a
# folder of the test's own and "bundle exec pitchfork" serves a plain
# Rack 3 application, and (Rails 8 needs Ruby 3.2) a Rails 8 application.
# The rest of the suite runs on Debian's packages; this test alone asks
# the registry, and skips, naming the reason, when the registry does not
# answer or does not serve the gems.
#
# The gems are installed once into PF_GEM_CACHE (default
# /var/tmp/pitchfork-gems-UID), which persists between runs: a later run
# asks the registry for its newest versions again and downloads only
# what changed.  Remove that folder to start from nothing.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"
: "${RUBY:=ruby}"

REAL_PITCHFORK=$PITCHFORK
CACHE=${PF_GEM_CACHE:-/var/tmp/pitchfork-gems-$(id -u)}
# Bundler's own time limit: a first run builds native extensions.
BUNDLE_TIMEOUT=${PF_GEM_TIMEOUT:-1200}

bundle_bin=$("$RUBY" -e 'print Gem.bin_path("bundler", "bundle")' 2>/dev/null) ||
    skip_all "no Bundler for $RUBY: install bundler (Debian), or \"$RUBY -S gem install bundler\""
command -v flock >/dev/null 2>&1 || skip_all "flock not found (util-linux)"
mkdir -p "$CACHE" || {
    echo "Bail out! cannot create $CACHE: set PF_GEM_CACHE to a writable folder"
    exit 1
}

# Every Bundler setting comes from here, none from the user's: gems in
# the cache, the registry's index cached beside them, and a retry only
# once, so that a machine without the registry skips quickly.
unset BUNDLE_WITHOUT BUNDLE_WITH BUNDLE_DEPLOYMENT BUNDLE_FROZEN \
    BUNDLE_ONLY BUNDLE_GEMFILE RUBYOPT
BUNDLE_PATH=$CACHE/bundle
BUNDLE_USER_CACHE=$CACHE/user-cache
BUNDLE_RETRY=1
BUNDLE_SILENCE_ROOT_WARNING=1
export BUNDLE_PATH BUNDLE_USER_CACHE BUNDLE_RETRY BUNDLE_SILENCE_ROOT_WARNING

# bundle NAME ARGS...: Bundler of $RUBY on $TMPD/NAME/Gemfile, one run
# at a time on the cache (flock), bounded; output in $TMPD/NAME.ARG1.log.
bundle() {
    (
        BUNDLE_GEMFILE=$TMPD/$1/Gemfile
        BUNDLE_APP_CONFIG=$TMPD/$1/.bundle
        export BUNDLE_GEMFILE BUNDLE_APP_CONFIG
        exec flock -w "$BUNDLE_TIMEOUT" "$CACHE/lock" \
            timeout "$BUNDLE_TIMEOUT" "$RUBY" "$bundle_bin" "$2"
    ) >"$TMPD/$1.$2.log" 2>&1
}

# why NAME CMD STATUS: the reason bundle CMD failed, in one line: its
# last paragraph.
why() {
    if [ "$3" = 124 ]; then
        echo "not done in $BUNDLE_TIMEOUT s"
    else
        awk 'NF { b = b (b ? " " : "") $0; next }
            { if (b) last = b; b = "" }
            END { if (b) last = b; print substr(last, 1, 300) }' \
            "$TMPD/$1.$2.log"
    fi
}

# install NAME: copy tests/registry/NAME to $TMPD/NAME and install its
# Gemfile's newest gems into the cache.  Returns 0 when they are
# installed; sets REASON and returns 1 when the registry did not answer
# or does not serve them (a reason to skip); returns 2 when a gem it
# served does not build here (a failure).
install() {
    cp -R "$top_srcdir/tests/registry/$1" "$TMPD/$1" &&
        chmod -R u+w "$TMPD/$1" || return 2
    # bundle lock resolves only: the registry's index, no gem downloaded.
    bundle "$1" lock
    st=$?
    if [ "$st" != 0 ]; then
        diag "$(tail -15 "$TMPD/$1.lock.log")"
        if grep -q 'CertificateFailureError' "$TMPD/$1.lock.log"; then
            REASON="no CA certificate here verifies the registry's: install"
            REASON="$REASON ca-certificates (tools/setup-deps does), or the"
            REASON="$REASON CA of the TLS proxy in between"
        else
            REASON="the registry did not resolve tests/registry/$1/Gemfile"
            REASON="$REASON (bundle lock: $(why "$1" lock "$st"))"
        fi
        return 1
    fi
    bundle "$1" install
    st=$?
    [ "$st" = 0 ] && return 0
    diag "$(tail -30 "$TMPD/$1.install.log")"
    if grep -q 'Gem::Ext::BuildError' "$TMPD/$1.install.log"; then
        diag "a native extension does not build: tools/setup-deps installs what they need"
        return 2
    fi
    REASON="the registry did not serve the gems of tests/registry/$1/Gemfile"
    REASON="$REASON (bundle install: $(why "$1" install "$st"))"
    return 1
}

# locked NAME GEM: the version of GEM in $TMPD/NAME/Gemfile.lock.
locked() {
    sed -n "s/^    $2 (\\([^)]*\\))\$/\\1/p" "$TMPD/$1/Gemfile.lock"
}

# serve NAME ARGS...: "bundle exec pitchfork ARGS..." in $TMPD/NAME, on
# a UNIX socket, as an application's deployment would start it.
serve() {
    d=$TMPD/$1
    shift
    cat >"$d/pitchfork" <<EOF
#!/bin/sh
cd '$d' && BUNDLE_GEMFILE='$d/Gemfile' BUNDLE_APP_CONFIG='$d/.bundle' \\
    exec '$RUBY' '$bundle_bin' exec '$REAL_PITCHFORK' "\$@"
EOF
    chmod +x "$d/pitchfork"
    PITCHFORK=$d/pitchfork start_server "$d.sock" "$@" config.ru
}

# What the server logs when a request fails (level=err), Rack::Lint's
# complaints, and Ruby's crash reports.
SERVER_ERRORS='level=err|Lint|\[BUG\]'

# ---- Rack 3 ---------------------------------------------------------------
install rack
st=$?
[ "$st" = 1 ] && skip_all "$REASON"
plan 19
ok "$st" "bundle install: the newest Rack 3 into $BUNDLE_PATH"
if [ "$st" != 0 ]; then
    echo "Bail out! the gems of tests/registry/rack/Gemfile are not installed"
    exit 1
fi
rack=$(locked rack rack)
diag "rack $rack from the registry"
# Where Bundler installs a gem NAME-VERSION for this Ruby.
gems=$BUNDLE_PATH/ruby/$("$RUBY" -rrbconfig -e 'print RbConfig::CONFIG["ruby_version"]')/gems

for env in production development; do
    serve rack -w 2 -E "$env"
    is "$(hcurl "$(url /release)")" "$rack $gems/rack-$rack" \
        "the app sees the Rack of its Gemfile.lock, from the bundle ($env)"
    case "$rack" in
    3.*) ok 0 "that Rack is Rack 3: $rack ($env)" ;;
    *) ok 1 "that Rack is Rack 3: $rack ($env)" ;;
    esac
    is "$(hcurl --data-binary 'a=42&b=1' "$(url /echo)")" "POST 8 a=42&b=1" \
        "a POST body ($env)"
    is "$(printf 'part one|' | hcurl -H 'Transfer-Encoding: chunked' \
        --data-binary @- "$(url /echo)")" "POST 9 part one|" \
        "a chunked POST body ($env)"
    is "$(hcurl "$(url /stream)" | tr '\n' '|')" "part 0|part 1|part 2|" \
        "a streaming body ($env)"
    ok "$(log_has "$SERVER_ERRORS" && echo 1 || echo 0)" \
        "no server error, Rack::Lint error or crash in the log ($env)"
    log_has "$SERVER_ERRORS" && diag "$(cat "$SERVER_LOG")"
    stop_server
done

# ---- Rails 8 --------------------------------------------------------------
RAILS_TESTS=6
ruby_version=$("$RUBY" -e 'print RUBY_VERSION')
if ! "$RUBY" -e 'exit(Gem::Version.new(RUBY_VERSION) >= Gem::Version.new("3.2"))'; then
    REASON="Rails 8 needs Ruby 3.2 or later; $RUBY is $ruby_version"
    st=1
else
    install rails
    st=$?
fi
if [ "$st" = 1 ]; then
    i=0
    while [ "$i" -lt "$RAILS_TESTS" ]; do
        skip "$REASON"
        i=$((i + 1))
    done
else
    ok "$st" "bundle install: the newest Rails 8 into $BUNDLE_PATH"
    if [ "$st" != 0 ]; then
        echo "Bail out! the gems of tests/registry/rails/Gemfile are not installed"
        exit 1
    fi
    rails=$(locked rails railties)
    rails_rack=$(locked rails rack)
    diag "rails $rails and rack $rails_rack from the registry"
    # Rails boots slowly on a loaded machine: spawn_timeout bounds the
    # mold's boot.
    PITCHFORK_SPAWN_TIMEOUT=120
    export PITCHFORK_SPAWN_TIMEOUT
    serve rails -w 2 -E production
    is "$(hcurl "$(url /)")" "$rails $rails_rack $gems/railties-$rails" \
        "the app sees the Rails and Rack of its Gemfile.lock, from the bundle"
    case "$rails" in
    8.*) ok 0 "that Rails is Rails 8: $rails" ;;
    *) ok 1 "that Rails is Rails 8: $rails" ;;
    esac
    is "$(hcurl -w ' %{http_code}' -H 'Content-Type: application/json' \
        --data-binary '{"name":"fork"}' "$(url /items)")" '{"name":"fork"} 201' \
        "a JSON POST"
    is "$(hcurl -w ' %{http_code}' --data-binary 'name=form+post' "$(url /items)")" \
        '{"name":"form post"} 201' "a form POST"
    ok "$(log_has "$SERVER_ERRORS" && echo 1 || echo 0)" \
        "no server error, Rack::Lint error or crash in the log"
    log_has "$SERVER_ERRORS" && diag "$(cat "$SERVER_LOG")"
    stop_server
fi

done_testing
