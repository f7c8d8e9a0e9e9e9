# A Rails-style config/pitchfork.rb, in upstream pitchfork's DSL.
# Start with: pitchfork -c config/pitchfork.rb -E production config.ru
# Environment variables (PITCHFORK_*) and flags override these values.

worker_processes Integer(ENV.fetch("WEB_CONCURRENCY", 4))
timeout 15, cleanup: 5
spawn_timeout 30
refork_after [50, 100, 1000]

# Connections must not be shared between processes: close them in the
# mold before it forks, and let each worker open its own lazily.
before_fork do |_server|
  ActiveRecord::Base.connection_handler.clear_all_connections! if defined?(ActiveRecord)
end

after_mold_fork do |_server, _mold|
  # A promoted worker becomes the mold: drop what it opened while serving.
  ActiveRecord::Base.connection_handler.clear_all_connections! if defined?(ActiveRecord)
end

after_worker_fork do |_server, _worker|
  # Threads do not survive fork: restart background threads here.
  SemanticLogger.reopen if defined?(SemanticLogger)
end

after_worker_ready do |server, worker|
  server.logger.info("worker #{worker.nr} ready") if server.respond_to?(:logger)
end
