# frozen_string_literal: true
# For the mold_compact test: leaves about 60 MB of freed C-heap chunks at
# boot, interleaved with a few kept ones so that the heap's top stays in
# use and malloc cannot shrink it by itself.  It answers with the number
# of heap compactions its process inherited.
# SPDX-License-Identifier: MIT
junk = []
$kept = []
200_000.times do |i|
  junk << ("x" * 300).dup
  $kept << ("y" * 300).dup if (i % 100).zero?
end
junk = nil # rubocop:disable Lint/UselessAssignment
run lambda { |_env|
  [200, {}, ["kept #{$kept.size}, compactions #{GC.stat[:compact_count]}\n"]]
}
