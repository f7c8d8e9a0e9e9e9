# frozen_string_literal: true
# For the mold_compact test: leaves about 60 MB of freed strings behind
# at boot, interleaved with a few kept ones so that the heap's top stays
# in use and malloc cannot shrink it by itself.  JUNK_BYTES (default
# 1000) is the size of each string: over 640 bytes a string's bytes are
# in the C heap (malloc); up to 640 Ruby 3.2 and later keep them in the
# object's own heap slot, and Ruby 3.1 in the C heap.  It answers with
# the number of strings kept and of the heap compactions its process
# inherited.
# SPDX-License-Identifier: MIT
bytes = Integer(ENV.fetch("JUNK_BYTES", "1000"))
junk = []
$kept = []
(60_000_000 / bytes).times do |i|
  junk << ("x" * bytes).dup
  $kept << ("y" * bytes).dup if (i % 100).zero?
end
junk = nil # rubocop:disable Lint/UselessAssignment
run lambda { |_env|
  [200, {}, ["kept #{$kept.size}, compactions #{GC.stat[:compact_count]}\n"]]
}
