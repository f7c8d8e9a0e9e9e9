/*
 * The Ruby VM of a pitchfork process (the mold, the configuration
 * child): starting it in the order pitchfork needs, loading the Rack app,
 * forking through Ruby's own Process.fork, and exiting through
 * ruby_cleanup.  The calls every Ruby class makes once the VM runs are
 * pfruby.h's.
 *
 * Facts about libruby 3.1 behind the order of vm_boot():
 * - setlocale(LC_CTYPE, "") first, or Encoding.default_external is
 *   US-ASCII even under a UTF-8 locale;
 * - ruby_options() with a "-e0" script is the only exported call that
 *   loads the builtin methods written in Ruby, RubyGems, the load path
 *   and RUBYOPT (so that "bundle exec" works); without it 1.class raises;
 * - its argv must be writable and stay allocated: Ruby keeps pointers to
 *   it, and $0= writes into the first strings;
 * - libraries are required through Object#require, which RubyGems
 *   overrides: rb_require() and Kernel.require skip RubyGems and fail on
 *   gems;
 * - C stdio and Ruby's $stdout buffer separately: C's is flushed before
 *   every fork and at exit, Process.fork flushes Ruby's.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_VM_H
#define PITCHFORK_VM_H

#include <ruby.h>
#include <sys/types.h>

struct settings;

/*
 * Start the VM in this process: RACK_ENV from s->rack_env, setlocale,
 * ruby_setup, ruby_options with -I dirs, $0, then the Ruby side of
 * pitchfork (which requires rack), Pitchfork::Journal, the -r libraries
 * and the C classes of the request path, in that order.  Returns 0, or
 * -1 after logging the Ruby error with its backtrace.  Call once per
 * process, after PFRUBY_INIT_STACK.
 */
int vm_boot(const struct settings *s);

/*
 * Load s->rackup with Rack::Builder.parse_file (Rack 2 and 3), wrapped in
 * Rack::Lint when RACK_ENV is "development" (as upstream pitchfork does).
 * Returns the app, registered with the GC for the life of the process, or
 * Qnil after logging the error, its backtrace and the file.
 */
VALUE vm_load_app(const struct settings *s);

/*
 * Process.fork under rb_protect, so that Ruby's at-fork bookkeeping and
 * the app's Process._fork hooks run.  Flushes C stdio first.  Returns the
 * child's pid in the parent, 0 in the child, -1 after logging when the
 * fork or a hook failed.
 */
pid_t vm_fork(void);

/* ruby_cleanup (at_exit blocks, Ruby IO flushed) then _exit(status). */
void vm_exit(int status) __attribute__((noreturn));

#endif
