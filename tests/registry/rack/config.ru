# A plain Rack 3 application, served with the Rack of its Gemfile (see
# tests/registry-gems.sh).
# SPDX-License-Identifier: MIT

# Rack 3 wants a new, unfrozen headers Hash in every response.
def text = { "content-type" => "text/plain" }

run(lambda do |env|
  case env["PATH_INFO"]
  when "/release"
    # The Rack the application sees, and where it was loaded from.
    [200, text, ["#{Rack.release} #{Gem.loaded_specs.fetch("rack").full_gem_path}"]]
  when "/echo"
    body = env["rack.input"].read
    [200, text, ["#{env["REQUEST_METHOD"]} #{body.bytesize} #{body}"]]
  when "/stream"
    # A Rack 3 streaming body: it responds to call, not to each.
    [200, text, lambda do |stream|
      3.times { |i| stream.write("part #{i}\n") }
      stream.close
    end]
  else
    [404, text, ["not found\n"]]
  end
end)
