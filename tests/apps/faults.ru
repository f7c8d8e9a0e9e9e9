# frozen_string_literal: true
# For the fault tests: /rec?ID appends ID to the file PF_RECORD (one
# write with O_APPEND, before the response) and answers "ok ID";
# /hog?SECS holds every descriptor the worker can open for SECS seconds;
# /stop stops its worker (SIGSTOP) after writing its pid to PF_MARK;
# /upload reads rack.input whole.  With PF_SLOW_BOOT naming a file that
# exists, loading the app sleeps 30 s (a mold that boots slowly).
# SPDX-License-Identifier: MIT
if ENV["PF_SLOW_BOOT"] && File.exist?(ENV["PF_SLOW_BOOT"])
  File.write("#{ENV["PF_SLOW_BOOT"]}.pid", "#{$$}\n")
  sleep 30
end

# Open /dev/null until EMFILE, refilling what frees up, for secs seconds.
def pf_hog(secs)
  held = []
  Thread.new do
    stop = Process.clock_gettime(Process::CLOCK_MONOTONIC) + secs
    while Process.clock_gettime(Process::CLOCK_MONOTONIC) < stop
      begin
        loop { held << File.open(File::NULL) }
      rescue Errno::EMFILE
        sleep 0.01
      end
    end
    held.each(&:close)
  end
  sleep 0.1 until held.size > 0
  held.size
end

run lambda { |env|
  case env["PATH_INFO"]
  when "/rec"
    id = env["QUERY_STRING"]
    File.open(ENV.fetch("PF_RECORD"), File::WRONLY | File::APPEND | File::CREAT) do |f|
      f.syswrite("#{id}\n")
    end
    sleep 0.01
    [200, {}, ["ok #{id}\n"]]
  when "/hog"
    n = pf_hog(Float(env["QUERY_STRING"]))
    [200, {}, ["hogged #{n}\n"]]
  when "/stop"
    File.write(ENV["PF_MARK"], "#{$$}\n") if ENV["PF_MARK"]
    Process.kill(:STOP, $$)
    [200, {}, ["continued\n"]]
  when "/upload"
    [200, {}, ["#{env["rack.input"].read.bytesize}\n"]]
  else
    [200, {}, ["hello pid=#{$$}\n"]]
  end
}
