# Helpers of bench/run, the benchmark runner: start the servers it
# compares (pitchfork with and without reforking, upstream pitchfork
# through Bundler, unicorn, puma, nginx) on 127.0.0.1 free ports, walk
# their process trees through /proc for CPU time and Pss, run wrk, and
# kill by PID every process started, at exit too.  The shell scripts
# (bench/*.sh) have the same helpers in bench/lib-bench.sh.
# SPDX-License-Identifier: MIT
require "socket"
require "tmpdir"
require "fileutils"

module Bench
  TOP = File.expand_path("../..", __dir__)
  CLK_TCK = Integer(`getconf CLK_TCK`.strip) rescue 100
  REFORK_AFTER = ENV.fetch("REFORK_AFTER", "50,100,1000")
  @started = []
  @tmp = Dir.mktmpdir("pfbench.", ENV["TMPDIR"] || "/tmp")
  @keep = ENV["BENCH_KEEP_TMP"] == "1"

  class << self
    attr_reader :tmp
  end

  def self.mono
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def self.log(msg)
    $stderr.puts "[bench #{Time.now.utc.strftime('%H:%M:%S')}] #{msg}"
  end

  def self.pitchfork
    env = ENV["PITCHFORK"]
    return env if env && !env.empty?
    ["build/src/pitchfork", "src/pitchfork"].map { |p| File.join(TOP, p) }
                                            .find { |p| File.executable?(p) }
  end

  # "pid ppid" of every process, read once.  The comm field may hold
  # spaces and parentheses: everything up to the last ") " is cut first.
  def self.proc_table
    Dir.glob("/proc/[0-9]*/stat").filter_map do |f|
      s = File.read(f) rescue next
      rest = s[(s.rindex(") ") + 2)..].split
      [Integer(File.basename(File.dirname(f))), Integer(rest[1]), rest]
    end
  end

  # root and its descendants.
  def self.tree_pids(root)
    table = proc_table
    tree = [root]
    loop do
      more = table.select { |pid, ppid, _| tree.include?(ppid) && !tree.include?(pid) }
      break if more.empty?
      tree.concat(more.map(&:first))
    end
    tree
  end

  # { pid => process title } of the tree's processes still running.
  def self.tree_titles(root)
    tree_pids(root).filter_map do |p|
      [p, File.read("/proc/#{p}/cmdline")]
    rescue SystemCallError # exited meanwhile (ENOENT, or ESRCH from /proc)
      nil
    end.to_h
  end

  # The newest generation in the tree's process titles ("(gen:N)", as
  # pitchfork and upstream pitchfork title their processes), or nil.
  def self.tree_generation(root)
    tree_titles(root).values.filter_map { |t| t[/\(gen:(\d+)\)/, 1]&.to_i }.max
  end

  # utime + stime + cutime + cstime of the tree, in seconds.
  def self.tree_cpu(root)
    pids = tree_pids(root)
    proc_table.select { |pid, _, _| pids.include?(pid) }
              .sum { |_, _, f| f[11].to_i + f[12].to_i + f[13].to_i + f[14].to_i } / CLK_TCK.to_f
  end

  # Waits until the tree of root has kept the same processes for quiet
  # seconds (a refork or reload rollout is over), at most timeout.
  def self.settle(root, quiet, timeout = 60)
    deadline = mono + timeout
    last = tree_pids(root).sort
    since = mono
    while mono < deadline
      sleep 0.1
      now = tree_pids(root).sort
      if now != last
        last = now
        since = mono
      elsif mono - since >= quiet
        return true
      end
    end
    false
  end

  def self.pss_kib(pid)
    File.read("/proc/#{pid}/smaps_rollup")[/^Pss:\s+(\d+)/, 1].to_i
  rescue SystemCallError
    0
  end

  def self.tree_pss_kib(root)
    tree_pids(root).sum { |p| pss_kib(p) }
  end

  def self.free_port
    s = TCPServer.new("127.0.0.1", 0)
    port = s.addr[1]
    s.close
    port
  end

  # One GET with "Connection: close"; the status as an Integer, or nil.
  def self.get_status(port, path, timeout = 2)
    Socket.tcp("127.0.0.1", port, connect_timeout: timeout) do |s|
      s.write("GET #{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
      return nil unless s.wait_readable(timeout)
      s.readpartial(64)[/\AHTTP\/1\.[01] (\d{3})/, 1]&.to_i
    end
  rescue SystemCallError, IOError, EOFError
    nil
  end

  # Polls until path answers 200; true, or false after seconds.
  def self.wait_200(port, path, seconds)
    deadline = mono + seconds
    while mono < deadline
      return true if get_status(port, path) == 200
      sleep 0.01
    end
    false
  end

  # Starts cmd in the background with output to log; remembers the PID.
  def self.spawn(env, cmd, log, chdir: TOP)
    pid = Process.spawn(env, *cmd, in: File::NULL, out: [log, "a"],
                                   err: [:child, :out], chdir: chdir)
    @started << pid
    File.open(File.join(@tmp, "started.log"), "a") do |f|
      f.puts "started #{File.basename(log, '.log')}: pid #{pid} (#{cmd.join(' ')})"
    end
    pid
  end

  # TERM to root, at most 10 s for it to go, then KILL to what is left
  # of its tree as it was before.
  def self.stop(root)
    return unless @started.delete(root)
    pids = tree_pids(root)
    begin
      Process.kill(:TERM, root)
    rescue SystemCallError
      nil
    end
    deadline = mono + 10
    until Process.wait(root, Process::WNOHANG)
      break if mono > deadline
      sleep 0.05
    end
    pids.each do |p|
      Process.kill(:KILL, p)
    rescue SystemCallError
      nil
    end
    begin
      Process.wait(root)
    rescue SystemCallError
      nil
    end
  end

  # Waits for a process spawn started and forgets it.
  def self.wait(pid)
    Process.wait(pid)
    @started.delete(pid)
  end

  # Runs cmd to its end as a process of ours (killed at exit like the
  # servers), its output in a file; returns [success, output].
  def self.run(env, cmd, chdir: TOP)
    @runs = (@runs || 0) + 1
    out = File.join(@tmp, "run-#{@runs}.out")
    pid = spawn(env, cmd, out, chdir: chdir)
    wait(pid)
    [$?.success?, File.read(out)]
  end

  def self.cleanup
    @started.dup.each { |p| stop(p) }
    if @keep
      $stderr.puts "logs kept in #{@tmp}"
    else
      FileUtils.rm_rf(@tmp)
    end
  end
  at_exit { cleanup }
  %w[INT TERM HUP].each { |sig| trap(sig) { exit 1 } }

  # [min, median, max] of numbers, or nil.
  def self.stats(values)
    v = values.compact.sort
    return nil if v.empty?
    n = v.size
    med = n.odd? ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0
    [v.first, med, v.last]
  end

  # "min / median / max" with fmt, or "-".
  def self.mmm(values, fmt = "%.1f")
    s = stats(values)
    s ? s.map { |x| format(fmt, x) }.join(" / ") : "-"
  end

  # wrk closed loop: { requests:, rps:, errors: }.
  def self.wrk(port, path, seconds, threads: 2, connections: 8, extra: [])
    _, out = run({}, ["timeout", (seconds + 60).to_s, "wrk", "-t#{threads}",
                      "-c#{connections}", "-d#{seconds}s", *extra,
                      "-H", "Connection: close", "http://127.0.0.1:#{port}#{path}"])
    { requests: out[/(\d+) requests in/, 1].to_i,
      rps: out[/^Requests\/sec:\s+([\d.]+)/, 1].to_f,
      errors: out.lines.grep(/Socket errors|Non-2xx/).map(&:strip).join("; "),
      text: out }
  end

  # ---- upstream pitchfork, from RubyGems through Bundler ---------------

  # The environment that runs bench/Gemfile's pitchfork, installing it
  # first (once); nil, with the reason in @upstream_why, when it cannot.
  def self.upstream_env
    return @upstream_env if defined?(@upstream_env)
    path = ENV["BENCH_BUNDLE_PATH"] ||
           (File.writable?(File.join(TOP, "bench")) ? File.join(TOP, "bench/.bundle") : File.join(@tmp, "bundle"))
    env = { "BUNDLE_GEMFILE" => File.join(TOP, "bench/Gemfile"),
            "BUNDLE_PATH" => path, "BUNDLE_APP_CONFIG" => File.join(path, "config"),
            "BUNDLE_FROZEN" => "true" }
    @upstream_env = nil
    unless system("command -v bundle >/dev/null")
      @upstream_why = "bundle (Debian bundler) is not installed"
      return nil
    end
    log "upstream pitchfork: bundle install into #{path}"
    ok, out = run(env, ["timeout", ENV.fetch("BENCH_BUNDLE_TIMEOUT", "300"), "bundle", "install"])
    unless ok
      @upstream_why = "bundle install failed: #{out.lines.last(3).join(' ').strip}"
      return nil
    end
    @upstream_version = IO.popen(env, %w[bundle exec pitchfork --version], err: [:child, :out], &:read).strip
    @upstream_env = env
  end

  def self.upstream_why = @upstream_why
  def self.upstream_version = @upstream_version

  # ---- the servers -------------------------------------------------------

  Server = Struct.new(:kind, :pid, :port, :log, :boot_s, :cmd, :env, :chdir, :workers)

  KINDS = {
    "pitchfork" => "pitchfork, refork_after #{REFORK_AFTER}",
    "pitchfork-norefork" => "pitchfork, no reforking",
    "upstream" => "upstream pitchfork (gem), refork_after #{REFORK_AFTER}",
    "unicorn" => "unicorn, preload_app true",
    "puma" => "puma -w N -t 1:1 --preload",
    "nginx" => "nginx, return 200 (the ceiling)",
  }.freeze

  # Why kind cannot run here, or nil.
  def self.unavailable(kind)
    case kind
    when "pitchfork", "pitchfork-norefork" then pitchfork ? nil : "pitchfork is not built"
    when "upstream" then upstream_env ? nil : upstream_why
    when "nginx" then File.executable?("/usr/sbin/nginx") || system("command -v nginx >/dev/null") ? nil : "nginx is not installed"
    else system("command -v #{kind} >/dev/null") ? nil : "#{kind} is not installed"
    end
  end

  # Starts kind with app (a .ru path) and workers; waits for a 200 on
  # ready_path.  Returns a Server, or nil after logging why.
  def self.start(kind, app, workers, env: {}, ready_path: "/", name: kind,
                 boot_timeout: Integer(ENV["BENCH_BOOT_TIMEOUT"] || 120))
    port = free_port
    log = File.join(@tmp, "#{name}.log")
    dir = File.join(@tmp, "#{name}.d")
    FileUtils.mkdir_p(dir)
    base = { "RACK_ENV" => "production" }.merge(env)
    cmd = case kind
          when "pitchfork"
            [pitchfork, "-E", "production", "-w", workers.to_s, "-l", "127.0.0.1:#{port}",
             "--refork-after", REFORK_AFTER, app]
          when "pitchfork-norefork"
            [pitchfork, "-E", "production", "-w", workers.to_s, "-l", "127.0.0.1:#{port}", app]
          when "upstream"
            File.write("#{dir}/pitchfork.conf.rb", <<~CONF)
              worker_processes #{workers}
              listen "127.0.0.1:#{port}", reuseport: true
              refork_after [#{REFORK_AFTER.split(',').join(', ')}]
              timeout 60
            CONF
            base.merge!(upstream_env)
            ["bundle", "exec", "pitchfork", "-E", "production", "-c", "#{dir}/pitchfork.conf.rb", app]
          when "unicorn"
            File.write("#{dir}/unicorn.conf.rb", <<~CONF)
              worker_processes #{workers}
              preload_app true
              listen "127.0.0.1:#{port}"
              timeout 60
            CONF
            ["unicorn", "-E", "production", "-c", "#{dir}/unicorn.conf.rb", app]
          when "puma"
            ["puma", "-e", "production", "-w", workers.to_s, "-t", "1:1", "--preload",
             "-b", "tcp://127.0.0.1:#{port}", app]
          when "nginx"
            FileUtils.mkdir_p("#{dir}/logs")
            File.write("#{dir}/nginx.conf", <<~CONF)
              daemon off;
              master_process on;
              worker_processes #{workers};
              pid #{dir}/nginx.pid;
              error_log #{dir}/error.log;
              events { worker_connections 1024; }
              http {
                  access_log off;
                  client_body_temp_path #{dir}/body;
                  proxy_temp_path #{dir}/proxy;
                  fastcgi_temp_path #{dir}/fastcgi;
                  uwsgi_temp_path #{dir}/uwsgi;
                  scgi_temp_path #{dir}/scgi;
                  server {
                      listen 127.0.0.1:#{port};
                      location / { default_type text/plain; return 200 "Hello\\n"; }
                  }
              }
            CONF
            [File.executable?("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx",
             "-e", "#{dir}/error.log", "-p", dir, "-c", "#{dir}/nginx.conf"]
          end
    t0 = mono
    chdir = app ? File.dirname(app) : TOP
    pid = spawn(base, cmd, log, chdir: chdir)
    unless wait_200(port, ready_path, boot_timeout)
      log "#{name}: no 200 on #{ready_path} within #{boot_timeout} s; log tail:\n" +
          File.readlines(log).last(15).join
      stop(pid)
      return nil
    end
    Server.new(kind, pid, port, log, mono - t0, cmd, base, chdir, workers)
  end

  # A deploy, started now; returns a Thread to join, or nil.  HUP for
  # pitchfork and unicorn (which, with preload_app true, replaces its
  # workers but keeps the app it loaded), USR2 for puma (a restart: HUP
  # would stop it).  Upstream pitchfork has no reload signal (HUP stops
  # it): a second instance starts on the same port (both listen with
  # SO_REUSEPORT), and once it has all its workers the old one gets
  # QUIT, a graceful stop; server.pid then names the new one.
  def self.reload(server)
    return Process.kill(RELOAD_SIGNAL[server.kind], server.pid) && nil unless server.kind == "upstream"
    Thread.new do
      old = server.pid
      pid = spawn(server.env, server.cmd, server.log, chdir: server.chdir)
      deadline = mono + 120
      sleep 0.01 while tree_pids(pid).size < server.workers + 2 && mono < deadline
      server.pid = pid
      begin
        Process.kill(:QUIT, old)
      rescue SystemCallError
        nil
      end
      deadline = mono + 10
      gone = false
      sleep 0.01 until (gone = Process.wait(old, Process::WNOHANG)) || mono > deadline
      gone ? @started.delete(old) : stop(old)
    end
  end

  RELOAD_SIGNAL = Hash.new(:HUP).merge("puma" => :USR2).freeze
  DEPLOY = Hash.new("HUP").merge("puma" => "USR2 (restart)",
                                 "upstream" => "a second instance on the port, then QUIT to the first").freeze

  # ---- the machine -------------------------------------------------------

  def self.machine
    cpu = File.read("/proc/cpuinfo")[/^model name\s*:\s*(.*)$/, 1] || `uname -m`.strip
    mem = File.read("/proc/meminfo")[/^MemTotal:\s+(\d+)/, 1].to_i
    { cpu: cpu, cores: Etc.nprocessors, mem_gib: mem / 1024.0 / 1024,
      kernel: `uname -sr`.strip, os: (File.read("/etc/os-release")[/^PRETTY_NAME="?([^"\n]*)/, 1] rescue "?") }
  end

  def self.loadavg
    File.read("/proc/loadavg").split[0, 3].join(" ")
  end

  def self.versions
    v = {}
    v["pitchfork"] = pitchfork ? IO.popen([pitchfork, "--version"], err: [:child, :out], &:read).lines.first.to_s.strip : "not built"
    v["upstream pitchfork"] = upstream_env ? upstream_version : "not run: #{upstream_why}"
    lock = File.read(File.join(TOP, "bench/Gemfile.lock")) rescue ""
    v["rack of upstream pitchfork's bundle"] = lock[/^    rack \(([^)]+)\)/, 1] || "?"
    v["unicorn"] = (IO.popen(%w[unicorn -v], err: [:child, :out], &:read).lines.first.to_s.strip rescue "not installed")
    v["puma"] = (IO.popen(%w[puma -V], err: [:child, :out], &:read).lines.first.to_s.strip rescue "not installed")
    ngx = File.executable?("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx"
    v["nginx"] = (IO.popen([ngx, "-v"], err: [:child, :out], &:read).strip rescue "not installed")
    v["wrk"] = (IO.popen(%w[wrk -v], err: [:child, :out], &:read).lines.first.to_s.strip rescue "not installed")
    v["ruby"] = RUBY_DESCRIPTION
    v["rack"] = (`ruby -rrack -e 'print Rack.release'`.strip rescue "?")
    v["sinatra"] = (`ruby -rsinatra/version -e 'print Sinatra::VERSION' 2>/dev/null`.strip rescue "?")
    v["rails"] = (`ruby -rrails/version -e 'print Rails.version' 2>/dev/null`.strip rescue "?")
    v["gnuplot"] = (`gnuplot --version 2>/dev/null`.strip rescue "not installed")
    v
  end
end
require "etc"
