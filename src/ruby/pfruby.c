/*
 * The embedded Ruby VM: boot in the mold (setlocale, ruby_setup,
 * ruby_options with a writable fake argv, $0), the Ruby side of pitchfork
 * compiled into the binary, the app load, Process.fork, and the one
 * protected-call wrapper with its exception report.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/pfruby.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ruby/encoding.h>
#include <ruby/thread.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "core/log.h"
#include "ruby/rack.h"
#include "core/settings.h"

/* Backtrace lines kept in one log line. */
#define PFRUBY_BACKTRACE_MAX 40

VALUE pfruby_mPitchfork = Qnil;
VALUE pfruby_eClientShutdown = Qnil;
VALUE pfruby_eHttpParserError = Qnil;

static bool pfruby_booted;

/* ---- the protected-call wrapper ----------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
/* Dead stack unpoisoned below the caller: deeper than any Ruby call
 * chain we expect between two landings. */
#define PFRUBY_ASAN_DEAD_STACK (4u << 20)

void __attribute__((noinline))
pfruby_asan_landed(void)
{
    /* Up to this frame, which sits where rb_protect's (or rb_ensure's)
     * frame was: every byte below is dead. */
    uintptr_t hi = (uintptr_t)__builtin_frame_address(0) & ~(uintptr_t)7;

    ASAN_UNPOISON_MEMORY_REGION((void *)(hi - PFRUBY_ASAN_DEAD_STACK),
                                PFRUBY_ASAN_DEAD_STACK);
}
#endif

#if defined(__SANITIZE_ADDRESS__)
/*
 * Ruby gives every thread an alternate signal stack of its own (malloc'd)
 * in place of the one ASan installed; when a Ruby thread ends (the soft
 * timeout's thread of a promoted worker, for one), ASan then tries to
 * munmap Ruby's and aborts with "unable to unmap".  Ruby's stack is
 * enough for both.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
    return "use_sigaltstack=0";
}
#endif

VALUE
pfruby_protect_exc(VALUE (*fn)(VALUE), VALUE arg, VALUE *exc)
{
    int state = 0;
    VALUE r = rb_protect(fn, arg, &state);

    if (state == 0) {
        *exc = Qnil;
        return r;
    }
    pfruby_asan_landed();
    *exc = rb_errinfo();
    rb_set_errinfo(Qnil);
    if (NIL_P(*exc)) {
        /* A jump without an exception (break/next/retry out of place). */
        *exc = rb_exc_new_cstr(rb_eRuntimeError,
                               "non-local jump out of a protected call");
    }
    return Qnil;
}

VALUE
pfruby_protect(VALUE (*fn)(VALUE), VALUE arg, int *state)
{
    VALUE exc;
    VALUE r = pfruby_protect_exc(fn, arg, &exc);

    if (state != NULL)
        *state = NIL_P(exc) ? 0 : 1;
    if (!NIL_P(exc))
        pfruby_log_exception(LOGL_ERR, "ruby error", exc);
    return r;
}

/* The report of one exception, built under rb_protect: formatting can
 * itself raise (error_highlight, a broken #message). */
struct exc_report {
    VALUE exc;
    VALUE message; /* String */
    VALUE backtrace; /* String, "\n"-joined, or Qnil */
};

static VALUE
exc_report_build(VALUE arg)
{
    struct exc_report *r = (struct exc_report *)arg;
    VALUE bt;
    long n;

    r->message = rb_obj_as_string(rb_funcall(r->exc, rb_intern("message"),
                                             0));
    bt = rb_funcall(r->exc, rb_intern("backtrace"), 0);
    if (!RB_TYPE_P(bt, T_ARRAY))
        return Qnil;
    n = RARRAY_LEN(bt);
    r->backtrace = rb_str_new(NULL, 0);
    for (long i = 0; i < n && i < PFRUBY_BACKTRACE_MAX; i++) {
        VALUE line = rb_obj_as_string(RARRAY_AREF(bt, i));
        rb_str_cat_cstr(r->backtrace, "\n\tfrom ");
        rb_str_append(r->backtrace, line);
    }
    if (n > PFRUBY_BACKTRACE_MAX)
        rb_str_catf(r->backtrace, "\n\t... %ld more lines",
                    n - PFRUBY_BACKTRACE_MAX);
    return Qnil;
}

void
pfruby_log_exception(enum log_level level, const char *context, VALUE exc)
{
    struct exc_report r = {exc, Qnil, Qnil};
    const char *klass = rb_obj_classname(exc);
    int state = 0;

    rb_protect(exc_report_build, (VALUE)&r, &state);
    if (state != 0)
        rb_set_errinfo(Qnil); /* fall back to the class name alone */
    if (!RB_TYPE_P(r.message, T_STRING))
        r.message = rb_str_new_cstr("(message unavailable)");
    if (!RB_TYPE_P(r.backtrace, T_STRING))
        r.backtrace = rb_str_new(NULL, 0);
    /* %.*s: a message may hold NUL bytes; the logger escapes the rest. */
    log_event(level, NULL, LOG_FIELDS(LOG_STR("EXCEPTION", klass)),
              "%s: %.*s (%s)%.*s",
              context, (int)RSTRING_LEN(r.message), RSTRING_PTR(r.message),
              klass, (int)RSTRING_LEN(r.backtrace),
              RSTRING_PTR(r.backtrace));
    RB_GC_GUARD(r.message);
    RB_GC_GUARD(r.backtrace);
}

bool
pfruby_exc_is_a(VALUE exc, VALUE klass)
{
    return !NIL_P(exc) && !NIL_P(klass) &&
           RTEST(rb_obj_is_kind_of(exc, klass));
}

bool
pfruby_exc_is_exit(VALUE exc)
{
    return pfruby_exc_is_a(exc, rb_eSystemExit) ||
           pfruby_exc_is_a(exc, rb_eSignal);
}

/* ---- boot --------------------------------------------------------------- */

/* A writable copy of s; ruby_options() may write into its argv. */
static char *
pfruby_strdup(const char *s)
{
    char *p = strdup(s);

    if (p == NULL)
        log_syserr("strdup");
    return p;
}

/*
 * ruby_options() with {"pitchfork", "--disable-error_highlight",
 * "-I", dir..., "-e0"}: loads the builtin Ruby methods, RubyGems, the
 * load path, RUBYOPT.  error_highlight is off because formatting its
 * messages from C raises (RUBY-EMBEDDING.md section 1).  Returns 0 or -1.
 */
static int
pfruby_options(const struct settings *s)
{
    char *argv[8 + 2 * SETTINGS_MAX_LIST];
    int argc = 0, state = 0, rc = -1;
    void *node;

    argv[argc++] = pfruby_strdup("pitchfork");
    argv[argc++] = pfruby_strdup("--disable-error_highlight");
    for (size_t i = 0; i < s->nincludes && i < SETTINGS_MAX_LIST; i++) {
        argv[argc++] = pfruby_strdup("-I");
        argv[argc++] = pfruby_strdup(s->includes[i]);
    }
    argv[argc++] = pfruby_strdup("-e0");
    argv[argc] = NULL;
    for (int i = 0; i < argc; i++)
        if (argv[i] == NULL)
            return -1; /* logged; the copies live as long as the VM */

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
pfruby_eval_pitchfork_rb(VALUE unused)
{
    VALUE binding = rb_const_get(rb_cObject, rb_intern("TOPLEVEL_BINDING"));
    VALUE src = rb_utf8_str_new_cstr(pfruby_pitchfork_rb);

    (void)unused;
    rb_define_const(rb_define_module("Pitchfork"), "VERSION",
                    rb_obj_freeze(rb_str_new_cstr(PACKAGE_VERSION)));
    rb_funcall(rb_cObject, rb_intern("eval"), 4, src, binding,
               rb_str_new_cstr("<pitchfork>/pitchfork.rb"), INT2FIX(1));
    pfruby_mPitchfork = rb_path2class("Pitchfork");
    pfruby_eClientShutdown = rb_path2class("Pitchfork::ClientShutdown");
    pfruby_eHttpParserError = rb_path2class("Pitchfork::HttpParserError");
    /* Pinned: GC.compact in the mold must not move what C globals hold. */
    rb_gc_register_mark_object(pfruby_mPitchfork);
    rb_gc_register_mark_object(pfruby_eClientShutdown);
    rb_gc_register_mark_object(pfruby_eHttpParserError);
    return Qnil;
}

/* Kernel#require through Object, so that RubyGems' override runs. */
static VALUE
pfruby_require(VALUE name)
{
    return rb_funcall(rb_cObject, rb_intern("require"), 1, name);
}

/* The C classes of the request path (rack.input, callables, info). */
static VALUE
pfruby_init_request_path(VALUE arg)
{
    const struct settings *s = (const struct settings *)arg;

    rack_info_init();
    rack_input_init(s);
    response_init(s);
    if (rack_env_init(s) < 0)
        rb_raise(rb_eRuntimeError, "cannot build the Rack env template");
    return Qnil;
}

int
pfruby_boot(const struct settings *s)
{
    static char fake0[] = "pitchfork";
    static char *fake_argv[] = {fake0, NULL};
    char **argv = fake_argv;
    int argc = 1, state = 0;
    PFRUBY_INIT_STACK;

    if (pfruby_booted) {
        log_err("pfruby_boot called twice");
        return -1;
    }
    if (s->rack_env != NULL && setenv("RACK_ENV", s->rack_env, 1) < 0) {
        log_syserr("setenv RACK_ENV=%s", s->rack_env);
        return -1;
    }
    /* Without it Encoding.default_external is US-ASCII under C.UTF-8. */
    if (setlocale(LC_CTYPE, "") == NULL)
        log_debug("setlocale(LC_CTYPE, \"\") failed, keeping \"C\"");
    ruby_sysinit(&argc, &argv);
    if (ruby_setup() != 0) {
        log_err("ruby_setup failed: cannot start the Ruby VM");
        return -1;
    }
    pfruby_booted = true;
    if (pfruby_options(s) < 0)
        return -1;
    ruby_script("pitchfork");

    pfruby_protect(pfruby_eval_pitchfork_rb, Qnil, &state);
    if (state != 0) {
        log_err("cannot load pitchfork's Ruby side (is ruby-rack "
                "installed?)");
        return -1;
    }
    /* Before anything else writes (and before rack.errors is taken). */
    if (rack_journal_init() < 0)
        return -1;
    for (size_t i = 0; i < s->nrequires && i < SETTINGS_MAX_LIST; i++) {
        pfruby_protect(pfruby_require, rb_str_new_cstr(s->requires[i]),
                       &state);
        if (state != 0) {
            log_err("-r %s failed", s->requires[i]);
            return -1;
        }
    }
    pfruby_protect(pfruby_init_request_path, (VALUE)s, &state);
    return state == 0 ? 0 : -1;
}

/* ---- app ---------------------------------------------------------------- */

static VALUE
pfruby_load_app_body(VALUE path)
{
    return rb_funcall(pfruby_mPitchfork, rb_intern("load_app"), 1, path);
}

/* Rack 2's Rack::Lint, which load_app adds in development, requires
 * rack.input#rewind, which a streamed rack.input does not have: say so
 * once at boot rather than in every request's 500. */
static void
pfruby_warn_lint_rewind(const struct settings *s)
{
    const char *env = getenv("RACK_ENV");
    VALUE rack, rel = Qnil;

    if (s->rewindable_input || env == NULL || strcmp(env, "development"))
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
pfruby_load_app(const struct settings *s)
{
    const char *path = s->rackup != NULL ? s->rackup : "config.ru";
    VALUE exc, app;

    app = pfruby_protect_exc(pfruby_load_app_body, rb_str_new_cstr(path),
                             &exc);
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
    pfruby_warn_lint_rewind(s);
    return app;
}

/* ---- fork and exit ------------------------------------------------------ */

static VALUE
pfruby_fork_body(VALUE unused)
{
    (void)unused;
    return rb_funcall(rb_mProcess, rb_intern("fork"), 0);
}

pid_t
pfruby_fork(void)
{
    VALUE r, exc;

    /* C stdio buffers would be written twice. */
    if (fflush(NULL) != 0)
        log_syswarn("fflush before fork");
    r = pfruby_protect_exc(pfruby_fork_body, Qnil, &exc);
    if (!NIL_P(exc)) {
        pfruby_log_exception(LOGL_ERR, "Process.fork", exc);
        return -1;
    }
    return NIL_P(r) ? 0 : NUM2PIDT(r);
}

void
pfruby_exit(int status)
{
    if (fflush(NULL) != 0)
        log_syswarn("fflush at exit");
    if (pfruby_booted)
        (void)ruby_cleanup(status); /* at_exit errors are printed by Ruby */
    _exit(status);
}

struct pfruby_poll_args {
    struct pollfd *fds;
    nfds_t nfds;
    int timeout_ms;
    int rc;
    int err;
};

static void *
pfruby_poll_nogvl(void *arg)
{
    struct pfruby_poll_args *p = arg;

    p->rc = poll(p->fds, p->nfds, p->timeout_ms);
    p->err = errno;
    return NULL;
}

int
pfruby_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    /* Ruby skips the call when an interrupt is already pending. */
    struct pfruby_poll_args p = {fds, nfds, timeout_ms, -1, EINTR};

    /* RUBY_UBF_IO: Thread#raise and Ruby's timer interrupt the poll. */
    rb_thread_call_without_gvl(pfruby_poll_nogvl, &p, RUBY_UBF_IO, NULL);
    errno = p.err;
    return p.rc;
}
