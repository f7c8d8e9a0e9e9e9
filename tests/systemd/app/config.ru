# The application of the systemd tests (tests/systemd/*.sh), also bound
# to /srv/<instance> in the container.
#   /            "Hello from LISTENER (gen G)"
#   /listener    env["pitchfork.listener"]
#   /listen-env  the LISTEN_* variables the application sees, one a line
#   /pid         the worker's pid
#   /alloc?mb=N  allocate N MiB and keep them until the worker exits
#   /grow?mb=N   grow a string 1 MiB at a time to N MiB, answer its size
#   /sleep?s=S   log "sleep-start", after S seconds "sleep-end", answer
#   /errors      write a marker line to rack.errors
#   /raise       raise an exception (a 500 and a logged backtrace)
#   /logger      log an error marker with Logger.new($stdout)
# BOOT_SLEEP=S in the environment makes loading take S seconds.
# SPDX-License-Identifier: MIT
sleep Float(ENV["BOOT_SLEEP"]) if ENV["BOOT_SLEEP"]
$held = []

def param(env, name, default)
  env["QUERY_STRING"].to_s[/(?:\A|&)#{name}=([0-9.]+)/, 1] || default
end

def text(body, status = 200)
  [status, { "content-type" => "text/plain" }, [body]]
end

run lambda { |env|
  case env["PATH_INFO"]
  when "/listener" then text("#{env["pitchfork.listener"]}\n")
  when "/listen-env" then text(ENV.keys.grep(/\ALISTEN_/).map { |k| "#{k}\n" }.join)
  when "/pid" then text("#{Process.pid}\n")
  when "/alloc"
    mb = Integer(param(env, "mb", "1"))
    $held << ("x" * (mb << 20))
    text("holding #{$held.sum(&:bytesize) >> 20} MiB\n")
  when "/grow"
    s = +""
    Integer(param(env, "mb", "1")).times { s << ("y" * (1 << 20)) }
    text("grew #{s.bytesize >> 20} MiB\n")
  when "/sleep"
    $stderr.puts "sleep-start"
    sleep Float(param(env, "s", "1"))
    $stderr.puts "sleep-end"
    text("slept\n")
  when "/errors"
    env["rack.errors"].puts "rack-errors-marker from #{Process.pid}"
    env["rack.errors"].flush
    text("written\n")
  when "/raise" then raise ArgumentError, "boom-marker"
  when "/logger"
    require "logger"
    Logger.new($stdout).error("logger-marker")
    text("logged\n")
  else
    w = env["pitchfork.worker"]
    text("Hello from #{env["pitchfork.listener"]} (gen #{w && w.generation})\n")
  end
}
