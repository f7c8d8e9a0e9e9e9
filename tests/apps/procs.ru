# frozen_string_literal: true
# For the process-model tests: answers with the worker's identity; a few
# paths misbehave on purpose.  PF_MARK names a file written when a slow
# request starts, PF_BODY the body prefix (changed by the reload test),
# PF_CALLS a file that gets each request's path.
# SPDX-License-Identifier: MIT
run lambda { |env|
  if ENV["PF_CALLS"]
    File.write(ENV["PF_CALLS"], "#{env["PATH_INFO"]}\n", mode: "a")
  end
  case env["PATH_INFO"]
  when "/sleep"
    File.write(ENV["PF_MARK"], "#{$$}\n") if ENV["PF_MARK"]
    sleep(Float(env["QUERY_STRING"]))
  when "/stop"
    File.write(ENV["PF_MARK"], "#{$$}\n") if ENV["PF_MARK"]
    Process.kill(:STOP, $$)
  when "/spin"
    File.write(ENV["PF_MARK"], "#{$$}\n") if ENV["PF_MARK"]
    loop { Thread.pass if false } # a busy loop that never sleeps
  when "/extend"
    env["pitchfork.timeout"].extend_deadline(Float(env["QUERY_STRING"]))
    sleep(Float(env["QUERY_STRING"]))
  when "/unsafe"
    Pitchfork::Info.no_longer_fork_safe!
  when "/exit"
    exit!(3)
  when "/info"
    i = Pitchfork::Info
    mem = Pitchfork::MemInfo.new
    return [200, {}, [[i.worker_nr, i.workers_count, i.live_workers_count,
                       i.fork_safe?, i.shutting_down?,
                       env["pitchfork.timeout"].deadline.ceil,
                       mem.rss.positive?, mem.pss.positive?].inspect]]
  end
  w = env["pitchfork.worker"]
  [200, {}, ["#{ENV.fetch("PF_BODY", "hello")} pid=#{$$} nr=#{w.nr} " \
             "gen=#{w.generation} n=#{w.requests_count}\n"]]
}
