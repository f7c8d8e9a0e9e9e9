#!/bin/sh
# The application's environment: -E, else RACK_ENV, else RAILS_ENV, else
# APP_ENV, else production.  The choice is exported as RACK_ENV, and as
# RAILS_ENV when that is unset, before the configuration file and the
# app load; Rack::Lint wraps the app in development only; the start-up
# line names the environment.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 17

# /env: RACK_ENV and RAILS_ENV as the app sees them, and as the
# configuration file saw them (a global it set); /lint: a 204 with a
# content-type, which Rack::Lint refuses with a 500.
cat >"$TMPD/config.ru" <<'EOF'
run lambda { |env|
  if env["PATH_INFO"] == "/lint"
    [204, { "content-type" => "text/plain" }, []]
  else
    seen = $config_saw || "no config"
    [200, {}, ["#{ENV["RACK_ENV"]} #{ENV["RAILS_ENV"]} config:#{seen}\n"]]
  end
}
EOF
cat >"$TMPD/cfg.rb" <<'EOF'
$config_saw = "#{ENV["RACK_ENV"]}/#{ENV["RAILS_ENV"]}"
# The child that reads the settings sees the same environment.
worker_processes ENV["RACK_ENV"] == "staging" ? 2 : 1
EOF

# boot RACK RAILS APP [ARGS...]: start with those variables ("-": unset).
boot() {
    unset RACK_ENV RAILS_ENV APP_ENV
    [ "$1" = - ] || export RACK_ENV="$1"
    [ "$2" = - ] || export RAILS_ENV="$2"
    [ "$3" = - ] || export APP_ENV="$3"
    shift 3
    start_server "$TMPD/s.sock" "$@" "$TMPD/config.ru"
    unset RACK_ENV RAILS_ENV APP_ENV
}
env_body() { hcurl "$(url /env)"; }
lint_code() { hcurl -o /dev/null -w '%{http_code}' "$(url /lint)"; }

boot - - - -w 1
is "$(env_body)" "production production config:no config" "no variable: production, exported as RACK_ENV and RAILS_ENV"
is "$(lint_code)" 204 "production: no Rack::Lint"
log_has 'rack_env=production .*msg="configuration file none .*; environment production;'
ok $? "the start-up line says production"
stop_server

boot - - staging -w 1
is "$(env_body)" "staging staging config:no config" "APP_ENV=staging alone"
stop_server

boot - rails app -w 1
is "$(env_body)" "rails rails config:no config" "RAILS_ENV beats APP_ENV"
stop_server

boot rack rails app -w 1
is "$(env_body)" "rack rails config:no config" "RACK_ENV beats RAILS_ENV, which stays as it was"
stop_server

boot "" rails - -w 1
is "$(env_body)" "rails rails config:no config" "an empty RACK_ENV counts as unset"
stop_server

boot rack - - -w 1 -E development
is "$(env_body)" "development development config:no config" "-E development beats RACK_ENV"
is "$(lint_code)" 500 "development: Rack::Lint refuses a 204 with a content-type"
log_has 'environment development'
ok $? "the start-up line says development"
stop_server

boot development - - -w 1
is "$(lint_code)" 500 "RACK_ENV=development: Rack::Lint"
stop_server

boot - development - -w 1
is "$(lint_code)" 500 "RAILS_ENV=development alone: Rack::Lint"
stop_server

boot - production development -w 1
is "$(lint_code)" 204 "RAILS_ENV=production beats APP_ENV=development: no Rack::Lint"
stop_server

# The configuration file, in its child and in the mold, sees the choice.
boot - - staging -c "$TMPD/cfg.rb"
wait_for all_gen 0 3
ok $? "the configuration file's child saw RACK_ENV=staging (2 workers)"
is "$(env_body)" "staging staging config:staging/staging" "the mold's configuration file saw RACK_ENV and RAILS_ENV"
stop_server

boot - - staging -c "$TMPD/cfg.rb" -E other
wait_for all_gen 0 2
ok $? "with -E other, the configuration file's child saw other (1 worker)"
is "$(env_body)" "other other config:other/other" "and so did the mold's"
stop_server

done_testing
