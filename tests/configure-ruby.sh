#!/bin/sh
# configure builds against the Ruby named by RUBY=, from that Ruby's own
# RbConfig: a Ruby without a shared libruby stops configure with how to
# rebuild it, and a libruby outside the dynamic loader's path gets an
# rpath.  Both Rubies are configure's $RUBY behind a wrapper that changes
# its RbConfig, so this runs configure (a few seconds each) in a scratch
# directory.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
: "${RUBY:=ruby}"

[ -x "$top_srcdir/configure" ] || skip_all "no $top_srcdir/configure (run ./autogen.sh)"
[ -f "$top_srcdir/config.status" ] &&
    skip_all "the source tree is configured in place: configure refuses another build directory"
RUBY=$(command -v "$RUBY") || skip_all "configure's Ruby not found"

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/pftest.XXXXXX") || exit 1
trap 'rm -rf "$TMPD"' EXIT
trap 'exit 1' INT TERM HUP
plan 9

# fake_ruby NAME RUBYCODE: $TMPD/NAME/bin/ruby, a Ruby that runs RUBYCODE
# (after loading rbconfig) before its script.
fake_ruby() {
    mkdir -p "$TMPD/$1/bin"
    printf 'require "rbconfig"\n%s\n' "$2" >"$TMPD/$1/fake.rb"
    printf '#!/bin/sh\nexec "%s" -r"%s" "$@"\n' "$RUBY" "$TMPD/$1/fake.rb" \
        >"$TMPD/$1/bin/ruby"
    chmod +x "$TMPD/$1/bin/ruby"
}

# run_configure NAME: configure with RUBY=$TMPD/NAME/bin/ruby in
# $TMPD/NAME/build; prints its status, output in $TMPD/NAME/out.
run_configure() {
    mkdir -p "$TMPD/$1/build"
    (cd "$TMPD/$1/build" &&
        exec timeout 300 "$top_srcdir/configure" RUBY="$TMPD/$1/bin/ruby" \
            ${CC:+CC="$CC"} >"$TMPD/$1/out" 2>&1)
    echo $?
}

version=$("$RUBY" -e 'print RUBY_VERSION')

# A Ruby built without --enable-shared (ruby-build's default).
fake_ruby static 'RbConfig::CONFIG["ENABLE_SHARED"] = "no"'
st=$(run_configure static)
ok "$([ "$st" != 0 ] && [ "$st" != 124 ] && echo 0 || echo 1)" \
    "a Ruby without a shared libruby: configure fails ($st)"
err=$(grep '^configure: error:' "$TMPD/static/out")
is "$(printf '%s\n' "$err" | grep -c 'has no shared libruby')" 1 \
    "the error says the Ruby has no shared libruby"
printf '%s\n' "$err" | grep -F -q "$TMPD/static/bin/ruby (ruby $version)"
ok $? "the error names that Ruby and its version"
printf '%s\n' "$err" | grep -F -q \
    "RUBY_CONFIGURE_OPTS=--enable-shared rbenv install $version"
ok $? "the error says how to rebuild it (rbenv, ruby-build)"
[ -f "$TMPD/static/build/Makefile" ]
ok "$([ $? != 0 ] && echo 0 || echo 1)" "and writes no Makefile"
[ -n "$err" ] || diag "$(tail -20 "$TMPD/static/out")"

# A Ruby whose libruby lives outside the dynamic loader's path, as in
# ~/.rbenv/versions/X/lib: the same libruby, seen through another folder.
mkdir -p "$TMPD/elsewhere/lib"
libdir=$("$RUBY" -rrbconfig -e 'c = RbConfig::CONFIG; print c[c["libdirname"] || "libdir"]')
for f in "$libdir"/libruby*.so*; do
    ln -s "$f" "$TMPD/elsewhere/lib/"
done
fake_ruby elsewhere "RbConfig::CONFIG[RbConfig::CONFIG['libdirname'] || 'libdir'] = '$TMPD/elsewhere/lib'"
st=$(run_configure elsewhere)
is "$st" 0 "a Ruby with its libruby in its own folder: configure passes"
[ "$st" = 0 ] || diag "$(tail -20 "$TMPD/elsewhere/out")"
grep -q "^  ruby: *ruby $version ($TMPD/elsewhere/bin/ruby)\$" "$TMPD/elsewhere/out"
ok $? "the summary names that Ruby"
grep -q "^  libruby: *$TMPD/elsewhere/lib/libruby.* (rpath)\$" "$TMPD/elsewhere/out"
ok $? "the summary names its libruby, reached by an rpath"
grep -q "^RUBY_LIBS = -L$TMPD/elsewhere/lib .*-Wl,-rpath,$TMPD/elsewhere/lib\$" \
    "$TMPD/elsewhere/build/Makefile"
ok $? "the binary is linked with -L and an rpath to that folder"

done_testing
