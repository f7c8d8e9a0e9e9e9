# The warm-up benchmark's app (bench/warmup.rb): WARMUP_ENDPOINTS
# endpoints (default 200), GET /e/0 .. /e/199, each doing lazy
# per-process work on its first call, as an application's first request
# to a page fills caches: it builds WARMUP_STRINGS strings (default 5000)
# into a hash, sorts its keys a few times and keeps the hash (a few
# hundred KiB of heap and about 10-20 ms of CPU per endpoint on a
# current x86 core).  Later calls answer from the memo.  A forked
# process inherits the memos of its parent: a worker forked from a warm
# mold is warm.
#
# Each process reports how many endpoints it holds warm by writing that
# count to WARMUP_STATE_DIR/PID (when the variable is set) when it is
# forked, on its first request and whenever the count changes, so that
# the benchmark can count the workers that have every endpoint warm.  GET /ping does no
# work (readiness).
# SPDX-License-Identifier: MIT
module WarmupApp
  ENDPOINTS = Integer(ENV.fetch("WARMUP_ENDPOINTS", "200"))
  STRINGS = Integer(ENV.fetch("WARMUP_STRINGS", "5000"))
  STATE_DIR = ENV["WARMUP_STATE_DIR"]
  MEMO = {}
  HEADERS = { "content-type" => "text/plain" }.freeze
  @reported = [nil, nil]

  def self.build(i)
    h = {}
    STRINGS.times { |j| h["endpoint-#{i}-key-#{j}"] = "value #{j * 31 % 997} of #{i}" }
    3.times { h.keys.sort_by { |k| k.hash } }
    h.freeze
  end

  # The state file: written when this process or its count changed.
  def self.report
    return unless STATE_DIR
    state = [Process.pid, MEMO.size]
    return if state == @reported
    @reported = state
    File.write(File.join(STATE_DIR, Process.pid.to_s), "#{MEMO.size}\n")
  end

  # A forked process reports too, with what it inherited: a worker
  # forked from a warm mold is warm before it serves anything.
  # Process._fork (Ruby 3.1 and later) is where every Process.fork,
  # Kernel#fork included, goes through, whichever server forks.
  module ForkReport
    def _fork
      pid = super
      WarmupApp.report if pid.zero?
      pid
    end
  end
  Process.singleton_class.prepend(ForkReport) if Process.respond_to?(:_fork)

  def self.call(env)
    path = env["PATH_INFO"]
    if path.start_with?("/e/")
      i = Integer(path[3..], exception: false)
      return [404, HEADERS.dup, ["no such endpoint\n"]] unless i && i >= 0 && i < ENDPOINTS
      h = (MEMO[i] ||= build(i))
      report
      body = "endpoint #{i}: #{h.size} entries, #{MEMO.size} warm in #{Process.pid}\n"
    elsif path == "/ping"
      body = "pong\n"
    else
      return [404, HEADERS.dup, ["not found\n"]]
    end
    [200, HEADERS.merge("content-length" => body.bytesize.to_s), [body]]
  end
end

run WarmupApp
