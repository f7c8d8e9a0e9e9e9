# frozen_string_literal: true
# jget.rb FILE KEY...: print the JSON values under KEY (strings raw, other
# values as JSON, "<absent>" when missing), one per line, for the tests.
# SPDX-License-Identifier: MIT
require "json"

doc = JSON.parse(File.read(ARGV.shift))
ARGV.each do |k|
  if !doc.key?(k)
    puts "<absent>"
  elsif doc[k].is_a?(String)
    puts doc[k]
  else
    puts JSON.generate(doc[k])
  end
end
