# A Rails-style config/pitchfork.rb, in upstream pitchfork's DSL.
# Start with: pitchfork -c config/pitchfork.rb -E production config.ru
# Environment variables (PITCHFORK_*) and flags override these values.

worker_processes Integer(ENV.fetch("WEB_CONCURRENCY", 4))
timeout 15, cleanup: 5
spawn_timeout 30
refork_after [50, 100, 1000]

# Closes every Active Record connection of this process: every database,
# role (writing, reading) and shard.  Rails 7.1 and later have
# ActiveRecord.disconnect_all!.  On Rails 6.1 and 7.0,
# clear_all_connections! without an argument closes the current role's
# pools only (a replica's connections stay open), and with the legacy
# connection handling each role has a handler of its own.
close_database_connections = lambda do
  next unless defined?(ActiveRecord::Base)

  if ActiveRecord.respond_to?(:disconnect_all!)
    ActiveRecord.disconnect_all!
  else
    handlers = begin
      ActiveRecord::Base.connection_handlers.values # legacy handling
    rescue NotImplementedError
      [ActiveRecord::Base.connection_handler]
    end
    handlers.each { |handler| handler.clear_all_connections!(nil) } # nil: every role
  end
end

# The mold must not hold a database connection when it forks: a child
# would inherit the socket.  Active Record discards what a child inherits,
# but the mold's own connection would stay open, idle, for the life of
# its generation.  The mold booted the app (which may have queried at
# boot) or is a promoted worker that served requests: close them here.
before_fork do |_server|
  close_database_connections.call
end

after_mold_fork do |_server, _mold|
  # A promoted worker becomes the mold: drop what it opened while serving,
  # before the heap is compacted and the first worker forked.
  close_database_connections.call
end

after_worker_fork do |_server, _worker|
  # Active Record connects again by itself on the first query.
  # Threads do not survive fork: restart background threads here.
  SemanticLogger.reopen if defined?(SemanticLogger)
end

after_worker_ready do |server, worker|
  server.logger.info("worker #{worker.nr} ready") if server.respond_to?(:logger)
end
