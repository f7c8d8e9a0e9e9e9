# Throw-away gems for the tests, built from a directory and installed in
# GEM_HOME without the network.  Sourced by tests/bundler.sh and
# tests/systemd/deploy.sh after tests/tap.sh.
# SPDX-License-Identifier: MIT
#
#   gem_build NAME VERSION DIR      DIR/NAME-VERSION.gem of every file
#                                   under DIR/lib
#   gem_install NAME VERSION DIR    the same, installed in GEM_HOME

gem_build() {
    cat >"$3/$1.gemspec" <<EOF
Gem::Specification.new do |s|
  s.name = "$1"
  s.version = "$2"
  s.summary = "a throw-away gem of the pitchfork tests"
  s.authors = ["pitchfork tests"]
  s.license = "MIT"
  s.files = Dir.glob("lib/**/*")
end
EOF
    (cd "$3" && gem build "$1.gemspec" >/dev/null 2>&1)
}

gem_install() {
    gem_build "$@" && gem install --local --no-document \
        --ignore-dependencies "$3/$1-$2.gem" >/dev/null 2>&1
}
