#!/bin/sh
# "pitchfork --version" names the Ruby the binary was built for: the
# version and the libruby of configure's $RUBY, and that libruby is the
# one the binary loads.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
: "${top_builddir:=$top_srcdir}"
: "${PITCHFORK:=$top_builddir/src/pitchfork}"
: "${RUBY:=ruby}"

[ -x "$PITCHFORK" ] || skip_all "$PITCHFORK not built"
plan 4

# The version and the libruby (the path the dynamic loader opens, by its
# SONAME) that $RUBY's own RbConfig describes.
want_version=$("$RUBY" -e 'print RUBY_VERSION')
want_libruby=$("$RUBY" -rrbconfig -e '
    c = RbConfig::CONFIG
    dir = c[c["libdirname"] || "libdir"]
    so = c["LIBRUBY_SONAME"].to_s.empty? ? c["LIBRUBY_SO"] : c["LIBRUBY_SONAME"]
    print File.join(dir, so)')

out=$("$PITCHFORK" --version)
is "$?" 0 "--version exits 0"
is "$out" "pitchfork $PACKAGE_VERSION (ruby $want_version, $want_libruby)" \
    "--version names the version and the libruby of $RUBY"

# The libruby the binary loads is that one (ldd resolves it by SONAME,
# through the rpath when there is one).
loaded=$(ldd "$PITCHFORK" | awk '$1 ~ /^libruby/ { print $3 }')
ok "$([ -n "$loaded" ] && echo 0 || echo 1)" "the binary links a libruby ($loaded)"
is "$(readlink -f "$loaded")" "$(readlink -f "$want_libruby")" \
    "the libruby it loads is $RUBY's"

done_testing
