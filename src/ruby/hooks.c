/*
 * Running the configuration file's hooks from C: each call goes through
 * the protected-call wrapper, an exception is logged with its backtrace
 * (through the configured logger when there is one) and never kills the
 * process, and SystemExit is reported to the caller, which decides (a
 * mold that exits in after_mold_fork is discarded, a worker that exits
 * in after_request_complete stops after the request).  The Ruby half is
 * Pitchfork::Hooks in src/ruby/pitchfork.rb.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/hooks.h"

#include <string.h>

#include "core/log.h"
#include "ruby/pfruby.h"

static const char *const hook_names[HOOK_MAX] = {
    [HOOK_AFTER_MONITOR_READY] = "after_monitor_ready",
    [HOOK_BEFORE_FORK] = "before_fork",
    [HOOK_AFTER_MOLD_FORK] = "after_mold_fork",
    [HOOK_AFTER_WORKER_FORK] = "after_worker_fork",
    [HOOK_AFTER_WORKER_READY] = "after_worker_ready",
    [HOOK_AFTER_WORKER_TIMEOUT] = "after_worker_timeout",
    [HOOK_AFTER_WORKER_HARD_TIMEOUT] = "after_worker_hard_timeout",
    [HOOK_BEFORE_WORKER_EXIT] = "before_worker_exit",
    [HOOK_AFTER_WORKER_EXIT] = "after_worker_exit",
    [HOOK_AFTER_REQUEST_COMPLETE] = "after_request_complete",
    [HOOK_BEFORE_SERVICE_WORKER_READY] = "before_service_worker_ready",
    [HOOK_BEFORE_SERVICE_WORKER_EXIT] = "before_service_worker_exit",
};

/* A bit per hook the configuration file defines. */
static unsigned hooks_mask;

_Static_assert(HOOK_MAX <= sizeof(hooks_mask) * 8,
               "hooks_mask has a bit for each hook");

const char *
hooks_name(enum hook h)
{
    return (unsigned)h < HOOK_MAX ? hook_names[h] : NULL;
}

static VALUE
hooks_names_body(VALUE unused)
{
    VALUE hooks = rb_path2class("Pitchfork::Hooks");

    (void)unused;
    return rb_funcall(hooks, rb_intern("defined_names"), 0);
}

void
hooks_load(void)
{
    int state = 0;
    VALUE names = pfruby_protect(hooks_names_body, Qnil, &state);

    hooks_mask = 0;
    if (state != 0 || !RB_TYPE_P(names, T_ARRAY))
        return;
    for (long i = 0; i < RARRAY_LEN(names); i++) {
        VALUE n = RARRAY_AREF(names, i);
        for (int h = 0; h < HOOK_MAX && RB_TYPE_P(n, T_STRING); h++)
            if (strcmp(StringValueCStr(n), hook_names[h]) == 0)
                hooks_mask |= 1u << h;
    }
    RB_GC_GUARD(names);
}

bool
hooks_defined(enum hook h)
{
    return (hooks_mask & (1u << h)) != 0;
}

/* Pitchfork::Hooks.run(:name, *args) with args in an Array. */
static VALUE
hooks_run_body(VALUE args)
{
    VALUE hooks = rb_path2class("Pitchfork::Hooks");

    return rb_funcallv(hooks, rb_intern("run"), (int)RARRAY_LEN(args),
                       RARRAY_CONST_PTR(args));
}

struct hooks_report {
    VALUE context;
    VALUE exc;
};

static VALUE
hooks_report_body(VALUE arg)
{
    struct hooks_report *r = (struct hooks_report *)arg;
    VALUE hooks = rb_path2class("Pitchfork::Hooks");

    return rb_funcall(hooks, rb_intern("log_error"), 2, r->context, r->exc);
}

static VALUE
hooks_logger_body(VALUE unused)
{
    (void)unused;
    return rb_funcall(pfruby_mPitchfork, rb_intern("logger"), 0);
}

void
hooks_log_error(const char *context, VALUE exc)
{
    struct hooks_report r = {rb_str_new_cstr(context), exc};
    VALUE logger, err;

    logger = pfruby_protect_exc(hooks_logger_body, Qnil, &err);
    if (NIL_P(err) && !NIL_P(logger)) {
        pfruby_protect_exc(hooks_report_body, (VALUE)&r, &err);
        if (NIL_P(err))
            return;
    }
    pfruby_log_exception(LOGL_ERR, context, exc);
}

/* The status of SystemExit, 1 for a signal or anything else. */
static int
hooks_exit_code(VALUE exc)
{
    VALUE st;

    if (!pfruby_exc_is_a(exc, rb_eSystemExit))
        return 1;
    st = rb_iv_get(exc, "status");
    return FIXNUM_P(st) ? FIX2INT(st) : 1;
}

int
hooks_run(enum hook h, int argc, const VALUE *argv, int *exit_status)
{
    VALUE args, exc;
    char context[64];

    if (!hooks_defined(h))
        return 0;
    args = rb_ary_new_capa(argc + 1);
    rb_ary_push(args, ID2SYM(rb_intern(hook_names[h])));
    for (int i = 0; i < argc; i++)
        rb_ary_push(args, argv[i]);
    pfruby_asan_landed();
    pfruby_protect_exc(hooks_run_body, args, &exc);
    RB_GC_GUARD(args);
    if (NIL_P(exc))
        return 0;
    if (pfruby_exc_is_exit(exc)) {
        if (exit_status != NULL)
            *exit_status = hooks_exit_code(exc);
        log_info("the %s hook asked to exit", hook_names[h]);
        return 1;
    }
    snprintf(context, sizeof(context), "%s hook error", hook_names[h]);
    hooks_log_error(context, exc);
    return -1;
}

struct hooks_new {
    const char *klass;
    int argc;
    VALUE argv[3];
};

static VALUE
hooks_new_body(VALUE arg)
{
    struct hooks_new *n = (struct hooks_new *)arg;

    return rb_funcallv(rb_path2class(n->klass), rb_intern("new"), n->argc,
                       n->argv);
}

VALUE
hooks_worker(int nr, unsigned generation, pid_t pid, bool keep)
{
    struct hooks_new n = {"Pitchfork::Worker",
                          3,
                          {nr < 0 ? Qnil : INT2NUM(nr), UINT2NUM(generation),
                           PIDT2NUM(pid)}};
    VALUE w = pfruby_protect(hooks_new_body, (VALUE)&n, NULL);

    if (keep && !NIL_P(w))
        rb_gc_register_mark_object(w);
    return w;
}

VALUE
hooks_service(unsigned generation, pid_t pid)
{
    struct hooks_new n = {"Pitchfork::Service",
                          2,
                          {UINT2NUM(generation), PIDT2NUM(pid), Qnil}};
    VALUE s = pfruby_protect(hooks_new_body, (VALUE)&n, NULL);

    if (!NIL_P(s))
        rb_gc_register_mark_object(s);
    return s;
}

VALUE
hooks_exit_status(pid_t pid, int wait_status)
{
    struct hooks_new n = {"Pitchfork::ExitStatus",
                          2,
                          {PIDT2NUM(pid), INT2NUM(wait_status), Qnil}};

    return pfruby_protect(hooks_new_body, (VALUE)&n, NULL);
}
