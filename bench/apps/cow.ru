# The copy-on-write benchmark's app (bench/cow-memory.sh).  At boot it
# defines COW_METHODS methods (default 20000) in a module, each reading
# three distinct constants and calling a method on each: the first call of
# a method fills its inline constant caches and call caches, which writes
# into memory that a fork shares with its parent, and allocates the cache
# entries in the Ruby heap.  Each request calls one slice of the methods,
# rotating over COW_SLICES slices (default 100) with a per-process counter
# that forks inherit: after COW_SLICES requests in a process's lineage,
# every method has been called.
# SPDX-License-Identifier: MIT
module CowApp
  METHODS = Integer(ENV.fetch("COW_METHODS", "20000"))
  SLICES = Integer(ENV.fetch("COW_SLICES", "100"))
  PER_SLICE = (METHODS + SLICES - 1) / SLICES

  # Constants first, in chunks, so that no method refers to a constant
  # defined after it.
  (0...METHODS).each_slice(1000) do |chunk|
    module_eval(chunk.map { |i| "C#{i} = Module.new\n" }.join)
  end
  (0...METHODS).each_slice(1000) do |chunk|
    src = chunk.map do |i|
      j = (i * 7 + 1) % METHODS
      k = (i * 13 + 2) % METHODS
      "def self.m#{i}; C#{i}.hash ^ C#{j}.hash ^ C#{k}.hash; end\n"
    end
    module_eval(src.join)
  end
  SLICE_NAMES = (0...SLICES).map do |s|
    first = s * PER_SLICE
    last = [first + PER_SLICE, METHODS].min
    calls = (first...last).map { |i| "m#{i}" }.join("\n")
    module_eval("def self.slice_#{s}\n#{calls}\nend\n")
    :"slice_#{s}"
  end.freeze
end

$cow_requests = 0
run lambda { |_env|
  slice = $cow_requests % CowApp::SLICES
  $cow_requests += 1
  CowApp.__send__(CowApp::SLICE_NAMES[slice])
  body = "slice #{slice}\n"
  [200, { "content-type" => "text/plain",
          "content-length" => body.bytesize.to_s }, [body]]
}
