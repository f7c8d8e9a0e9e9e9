# frozen_string_literal: true
# For the fault tests: /rec?ID appends ID to the file PF_RECORD (one
# write with O_APPEND, before the response) and answers "ok ID";
# /hog?RELEASE holds every descriptor the worker can open until the
# file RELEASE exists;
# /stop stops its worker (SIGSTOP) after writing its pid to PF_MARK;
# /upload reads rack.input whole.  With PF_SLOW_BOOT naming a file that
# exists, loading the app sleeps 30 s (a mold that boots slowly).
# SPDX-License-Identifier: MIT
if ENV["PF_SLOW_BOOT"] && File.exist?(ENV["PF_SLOW_BOOT"])
  File.write("#{ENV["PF_SLOW_BOOT"]}.pid", "#{$$}\n")
  sleep 30
end

# Open /dev/null until EMFILE and keep refilling what frees up (the
# request's own connection, once closed) until the file RELEASE exists;
# each time it holds more, write the count to PF_MARK.
def pf_hog(release)
  held = []
  full = Queue.new
  mark = File.open(ENV.fetch("PF_MARK"), "w") # no descriptor left later
  Thread.new do
    until File.exist?(release)
      n = held.size
      begin
        loop { held << File.open(File::NULL) }
      rescue Errno::EMFILE
        if held.size > n
          mark.seek(0)
          mark.syswrite(format("%8d\n", held.size))
          full << held.size if n.zero?
        end
        sleep 0.01
      end
    end
    held.each(&:close)
    mark.close
  end
  full.pop
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
    n = pf_hog(env["QUERY_STRING"])
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
