# The smallest Rack application: answers "Hello" to every request.
# Run it with: pitchfork examples/hello/config.ru
run lambda { |env|
  [200, { "content-type" => "text/plain" }, ["Hello\n"]]
}
