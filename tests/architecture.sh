#!/bin/sh
# The architecture of src/ (HACKING's map) as checks on the sources and
# on the built objects: which folder includes which, only src/ruby
# touches Ruby, no file over 600 lines, exported symbols prefixed by
# their file's name, no circle of calls between files.
# SPDX-License-Identifier: MIT
set -eu
exec ruby "$top_srcdir/tests/architecture.rb" "$top_srcdir" "$top_builddir"
