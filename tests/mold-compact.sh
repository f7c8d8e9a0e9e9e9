#!/bin/sh
# mold_compact: the mold compacts its heap (a full GC), and returns the free
# pages of its C heap to the kernel before forking, so a boot that left
# 60 MB of freed chunks behind does not leave them in the mold (and in
# every worker); with mold_compact false they stay.  A promoted mold
# compacts too.  Ruby 3.2 and later keep short strings in the object
# heap, whose emptied pages Process.warmup frees where Ruby has it.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 7

# The mold's resident memory in MiB.
mold_rss() {
    awk '/^Rss:/ { print int($2 / 1024) }' /proc/"$(mold_pid)"/smaps_rollup
}

start_server "$TMPD/s.sock" -w 1 "$APPS/junk.ru"
is "$(hcurl "$(url /)")" "kept 600, compactions 1" \
    "the app boots; the mold compacted its heap once before the fork"
on=$(mold_rss)
stop_server

PITCHFORK_MOLD_COMPACT=false start_server "$TMPD/s.sock" -w 1 "$APPS/junk.ru"
is "$(hcurl "$(url /)")" "kept 600, compactions 0" \
    "mold_compact false: no compaction"
off=$(mold_rss)
stop_server

# A promoted mold compacts too: a worker of generation 1 inherits both
# compactions.
start_server "$TMPD/s.sock" -w 1 --refork-after 5,false "$APPS/junk.ru"
for i in 1 2 3 4 5; do hcurl -o /dev/null "$(url /)"; done
wait_for all_gen 1 2
ok $? "after 5 requests the worker is promoted: a gen 1 mold and worker"
is "$(hcurl "$(url /)")" "kept 600, compactions 2" \
    "the promoted mold compacted its heap before the fork"
stop_server

ok "$([ -n "$on" ] && [ -n "$off" ] && echo 0 || echo 1)" \
    "the molds' memory was read ($on MiB, $off MiB)"
# AddressSanitizer's allocator keeps freed chunks in its quarantine and
# malloc_trim(3) cannot return them: the difference only shows without it.
if ldd "$PITCHFORK" | grep -q libasan; then
    skip "AddressSanitizer build: malloc_trim has nothing to trim"
else
    ok "$([ "$((off - on))" -ge 30 ] && echo 0 || echo 1)" \
        "the compacted mold holds at least 30 MiB less ($on MiB vs $off MiB)"
fi

# 300-byte strings: in the C heap before Ruby 3.2 (the check above), in
# the object heap since.  GC.compact moves the kept ones together but
# keeps the pages it emptied; Process.warmup (Ruby 3.3), which the mold
# calls where Ruby has it, frees them.
if ldd "$PITCHFORK" | grep -q libasan; then
    skip "AddressSanitizer build: freed pages stay in its quarantine"
elif ! ruby -e 'exit Gem::Version.new(RUBY_VERSION) >= Gem::Version.new("3.2")'; then
    skip "Ruby $(ruby -e 'print RUBY_VERSION') keeps 300-byte strings in the C heap, as checked above"
elif ! ruby -e 'exit Process.respond_to?(:warmup)'; then
    skip "Ruby $(ruby -e 'print RUBY_VERSION') has no Process.warmup to free the object heap's emptied pages"
else
    JUNK_BYTES=300 start_server "$TMPD/s.sock" -w 1 "$APPS/junk.ru"
    on=$(mold_rss)
    stop_server
    JUNK_BYTES=300 PITCHFORK_MOLD_COMPACT=false start_server "$TMPD/s.sock" -w 1 "$APPS/junk.ru"
    off=$(mold_rss)
    stop_server
    ok "$([ "$((off - on))" -ge 30 ] && echo 0 || echo 1)" \
        "with the strings in the object heap, the compacted mold holds at least 30 MiB less ($on MiB vs $off MiB)"
fi
done_testing
