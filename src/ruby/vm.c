/*
 * The Ruby VM of a pitchfork process (see vm.h): the boot, with a
 * writable fake argv for ruby_options(), the application's bundle and
 * the Ruby side of pitchfork compiled into the binary, then the C classes of
 * the request path in the order they depend on each other; the app load;
 * Process.fork; the exit through ruby_cleanup.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/vm.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ruby/encoding.h>

#include "core/log.h"
#include "core/settings.h"
#include "ruby/bundle.h"
#include "ruby/connection.h"
#include "ruby/info.h"
#include "ruby/journal.h"
#include "ruby/pfruby.h"
#include "ruby/rack_env.h"
#include "ruby/rack_input.h"
#include "ruby/rack_io.h"
#include "ruby/response.h"

/* The Ruby source of src/ruby/pitchfork.rb, generated at build time. */
extern const char pfruby_pitchfork_rb[];

static bool vm_booted;

/* ---- boot --------------------------------------------------------------- */

/* A writable copy of s; ruby_options() may write into its argv. */
static char *
vm_strdup(const char *s)
{
    char *p = strdup(s);

    if (p == NULL)
        log_syserr("strdup");
    return p;
}

/*
 * ruby_options() with {"pitchfork", "--disable-error_highlight",
 * "-I", dir..., "-e0"}: loads the builtin Ruby methods, RubyGems, the
 * load path, RUBYOPT.  error_highlight is off: formatting a NoMethodError
 * raised by rb_funcall from C (no Ruby frame above it) makes its
 * error_highlight 0.3 raise TypeError.  Returns 0 or -1.
 */
static int
vm_options(const struct settings *s)
{
    char *argv[8 + 2 * SETTINGS_MAX_LIST];
    int argc = 0, state = 0, rc = -1;
    void *node;

    argv[argc++] = vm_strdup("pitchfork");
    argv[argc++] = vm_strdup("--disable-error_highlight");
    for (size_t i = 0; i < s->nincludes && i < SETTINGS_MAX_LIST; i++) {
        argv[argc++] = vm_strdup("-I");
        argv[argc++] = vm_strdup(s->includes[i]);
    }
    argv[argc++] = vm_strdup("-e0");
    argv[argc] = NULL;
    for (int i = 0; i < argc; i++)
        if (argv[i] == NULL) { /* logged */
            for (int j = 0; j < argc; j++)
                free(argv[j]);
            return -1;
        }
    /* From here the copies live as long as the VM. */

    node = ruby_options(argc, argv);
    if (ruby_executable_node(node, &state))
        rc = 0;
    else
        log_err("ruby: bad interpreter options (check RUBYOPT and -I), "
                "status %d",
                state);
    /* argv stays allocated: Ruby keeps pointers to it (origargv). */
    return rc;
}

/* Kernel#eval of the embedded pitchfork.rb at the top level. */
static VALUE
vm_eval_pitchfork_rb(VALUE unused)
{
    VALUE binding = rb_const_get(rb_cObject, rb_intern("TOPLEVEL_BINDING"));
    VALUE src = rb_utf8_str_new_cstr(pfruby_pitchfork_rb);

    (void)unused;
    rb_define_const(rb_define_module("Pitchfork"), "VERSION",
                    rb_obj_freeze(rb_str_new_cstr(PACKAGE_VERSION)));
    rb_funcall(rb_cObject, rb_intern("eval"), 4, src, binding,
               rb_str_new_cstr("<pitchfork>/pitchfork.rb"), INT2FIX(1));
    pfruby_find_classes();
    return Qnil;
}

/* Kernel#require through Object, so that RubyGems' override runs. */
static VALUE
vm_require(VALUE name)
{
    return rb_funcall(rb_cObject, rb_intern("require"), 1, name);
}

/*
 * The C classes and constants of the request path, each after what it
 * uses: Pitchfork::Info, rack.input, the socket classes, the names the
 * response calls, the env's callables (rack.hijack, rack.early_hints),
 * and last the env template that holds them.
 */
static VALUE
vm_define_classes(VALUE arg)
{
    const struct settings *s = (const struct settings *)arg;

    info_init();
    rack_input_init(s);
    rack_io_init();
    response_init();
    connection_init();
    if (rack_env_init(s, connection_hijack_callable,
                      connection_early_hints_callable) < 0)
        rb_raise(rb_eRuntimeError, "cannot build the Rack env template");
    return Qnil;
}

/*
 * The environment as the application reads it: RACK_ENV is the chosen
 * one (-E, RACK_ENV, RAILS_ENV, APP_ENV or production), and RAILS_ENV
 * too when it is unset, as rails server does.  Returns 0 or -1 (logged).
 */
static int
vm_export_env(const struct settings *s)
{
    if (s->rack_env == NULL)
        return 0;
    if (setenv("RACK_ENV", s->rack_env, 1) < 0) {
        log_syserr("setenv RACK_ENV=%s", s->rack_env);
        return -1;
    }
    if (setenv("RAILS_ENV", s->rack_env, 0) < 0) {
        log_syserr("setenv RAILS_ENV=%s", s->rack_env);
        return -1;
    }
    return 0;
}

int
vm_boot(const struct settings *s)
{
    static char fake0[] = "pitchfork";
    static char *fake_argv[] = {fake0, NULL};
    char **argv = fake_argv;
    int argc = 1, state = 0;
    PFRUBY_INIT_STACK;

    if (vm_booted) {
        log_err("vm_boot called twice");
        return -1;
    }
    if (vm_export_env(s) < 0)
        return -1;
    /* Without it Encoding.default_external is US-ASCII under C.UTF-8. */
    if (setlocale(LC_CTYPE, "") == NULL)
        log_debug("setlocale(LC_CTYPE, \"\") failed, keeping \"C\"");
    ruby_sysinit(&argc, &argv);
    if (ruby_setup() != 0) {
        log_err("ruby_setup failed: cannot start the Ruby VM");
        return -1;
    }
    vm_booted = true;
    if (vm_options(s) < 0)
        return -1;
    ruby_script("pitchfork");
    /* The Gemfile first: pitchfork.rb requires rack. */
    if (bundle_setup() < 0)
        return -1;

    pfruby_protect(vm_eval_pitchfork_rb, Qnil, &state);
    if (state != 0) {
        log_err("cannot load pitchfork's Ruby side (is ruby-rack "
                "installed?)");
        return -1;
    }
    /* Before anything else writes (and before rack.errors is taken). */
    if (journal_init() < 0)
        return -1;
    for (size_t i = 0; i < s->nrequires && i < SETTINGS_MAX_LIST; i++) {
        pfruby_protect(vm_require, rb_str_new_cstr(s->requires[i]), &state);
        if (state != 0) {
            log_err("-r %s failed", s->requires[i]);
            return -1;
        }
    }
    pfruby_protect(vm_define_classes, (VALUE)s, &state);
    return state == 0 ? 0 : -1;
}

/* ---- app ---------------------------------------------------------------- */

static VALUE
vm_load_app_body(VALUE path)
{
    return rb_funcall(pfruby_mPitchfork, rb_intern("load_app"), 1, path);
}

/* Rack 2's Rack::Lint, which load_app adds in development, requires
 * rack.input#rewind, which a streamed rack.input does not have: say so
 * once at boot rather than in every request's 500. */
static void
vm_warn_lint_rewind(const struct settings *s)
{
    const char *env = getenv("RACK_ENV");
    VALUE rack, rel = Qnil;

    if (s->rewindable_input || env == NULL || strcmp(env, "development") != 0)
        return;
    if (!rb_const_defined(rb_cObject, rb_intern("Rack")))
        return;
    rack = rb_const_get(rb_cObject, rb_intern("Rack"));
    if (!rb_const_defined(rack, rb_intern("RELEASE")))
        return;
    rel = rb_const_get(rack, rb_intern("RELEASE"));
    if (RB_TYPE_P(rel, T_STRING) && RSTRING_LEN(rel) > 0 &&
        RSTRING_PTR(rel)[0] < '3')
        log_warn("rewindable_input false: rack.input has no rewind, and the "
                 "Rack::Lint of rack %.*s that development mode adds refuses "
                 "every request without it (use rack 3, or another "
                 "RACK_ENV)",
                 (int)RSTRING_LEN(rel), RSTRING_PTR(rel));
    RB_GC_GUARD(rel);
}

VALUE
vm_load_app(const struct settings *s)
{
    const char *path = s->rackup != NULL ? s->rackup : "config.ru";
    VALUE exc, app;

    app = pfruby_protect_exc(vm_load_app_body, rb_str_new_cstr(path), &exc);
    if (!NIL_P(exc)) {
        char ctx[512];

        snprintf(ctx, sizeof(ctx), "cannot load the app from %s", path);
        pfruby_log_exception(LOGL_ERR, ctx, exc);
        return Qnil;
    }
    if (NIL_P(app)) {
        log_err("cannot load the app from %s: it evaluates to nil", path);
        return Qnil;
    }
    rb_gc_register_mark_object(app);
    vm_warn_lint_rewind(s);
    return app;
}

/* ---- fork and exit ------------------------------------------------------ */

static VALUE
vm_fork_body(VALUE unused)
{
    (void)unused;
    return rb_funcall(rb_mProcess, rb_intern("fork"), 0);
}

pid_t
vm_fork(void)
{
    VALUE r, exc;

    /* C stdio buffers would be written twice. */
    if (fflush(NULL) != 0)
        log_syswarn("fflush before fork");
    r = pfruby_protect_exc(vm_fork_body, Qnil, &exc);
    if (!NIL_P(exc)) {
        pfruby_log_exception(LOGL_ERR, "Process.fork", exc);
        return -1;
    }
    return NIL_P(r) ? 0 : NUM2PIDT(r);
}

void
vm_exit(int status)
{
    if (fflush(NULL) != 0)
        log_syswarn("fflush at exit");
    if (vm_booted)
        (void)ruby_cleanup(status); /* at_exit errors are printed by Ruby */
    _exit(status);
}
