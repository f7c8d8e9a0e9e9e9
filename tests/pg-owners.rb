# frozen_string_literal: true
#
# Which process holds each database connection of tests/rails-pg.sh: the
# backends of USER in pg_stat_activity, their client ports, the processes
# that hold those TCP sockets (ss -tnp) and the server's children (ps
# --ppid SERVER_PID).  Prints one line of what it found, then one line
# per problem, and exits 1 when there is one: a backend whose socket no
# process holds (its process is gone but the connection was not closed),
# one that two processes hold (shared), one held by anything but a live
# worker of the server (the mold, a stranger), or a worker with more than
# MAX (one per database role the application uses).
# Usage: pg-owners.rb SOCKET_DIR PORT USER SERVER_PID MAX
#
# SPDX-License-Identifier: MIT
require "pg"

dir, port, user, server, max = ARGV
port = Integer(port)
max = Integer(max)

conn = PG.connect(host: dir, port: port, user: "postgres", dbname: "postgres")
query = <<~SQL
  SELECT pid, client_port, application_name FROM pg_stat_activity
  WHERE usename = $1 AND backend_type = 'client backend'
SQL
backends = conn.exec_params(query, [user]).map do |r|
  [r["pid"].to_i, r["client_port"].to_i, r["application_name"]]
end
conn.close

# Client port => PIDs holding that socket, for connections to PORT.
holders = Hash.new { |h, k| h[k] = [] }
IO.popen(%w[ss -Htanp], &:read).each_line do |line|
  _state, _rq, _sq, local, peer, users = line.split(/\s+/, 6)
  next unless peer == "127.0.0.1:#{port}" && local&.start_with?("127.0.0.1:")

  holders[local.split(":").last.to_i].concat(users.to_s.scan(/pid=(\d+)/).flatten.map(&:to_i))
end

# The server's children and their roles, from their titles.
roles = {}
IO.popen(["ps", "-o", "pid=,args=", "--ppid", server], &:read).each_line do |line|
  pid, args = line.strip.split(/\s+/, 2)
  roles[pid.to_i] = args[/worker\[\d+\]|mold|service/] || args
end
workers = roles.select { |_, r| r.start_with?("worker[") }.keys.sort

problems = []
per_worker = Hash.new(0)
backends.each do |backend, client_port, name|
  pids = holders[client_port].uniq
  what = "backend #{backend} (#{name}, client port #{client_port})"
  if pids.empty?
    problems << "#{what}: held by no process"
  elsif pids.size > 1
    problems << "#{what}: shared by #{pids.map { |p| "#{p} (#{roles[p] || 'not a child'})" }.join(', ')}"
  elsif !workers.include?(pids[0])
    problems << "#{what}: held by #{pids[0]} (#{roles[pids[0]] || 'not a child of the server'})"
  else
    per_worker[pids[0]] += 1
  end
end
per_worker.each { |p, n| problems << "worker #{p} (#{roles[p]}) holds #{n} connections" if n > max }

puts "#{backends.size} backends, workers #{workers.join(' ')}, " \
     "holders #{backends.map { |_, cp, _| holders[cp].uniq.join("+") }.join(' ')}"
puts problems
exit(problems.empty? ? 0 : 1)
