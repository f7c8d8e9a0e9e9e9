/*
 * The Ruby half of the configuration file: evaluate upstream pitchfork's
 * DSL (configurator.rb) in a Ruby process.  See core/config_file.h for
 * the monitor's half, which runs config_eval_child() in a short-lived
 * child and reads its settings.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/config_eval.h"

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

#include <ruby.h>

#include "core/log.h"
#include "core/settings.h"
#include "ruby/config_dsl.h"
#include "ruby/pfruby.h"
#include "ruby/vm.h"

extern const char pfruby_configurator_rb[];

/* Define Pitchfork::Configurator: its vocabulary from the C tables
 * (Pitchfork::ConfigDSL), then configurator.rb, which builds on it. */
static VALUE
config_eval_dsl_body(VALUE unused)
{
    VALUE src = rb_utf8_str_new_cstr(pfruby_configurator_rb);

    (void)unused;
    config_dsl_define();
    return rb_funcall(rb_mKernel, rb_intern("eval"), 3, src,
                      rb_const_get(rb_cObject, rb_intern("TOPLEVEL_BINDING")),
                      rb_str_new_cstr("pitchfork/configurator.rb"));
}

/* Configurator.load(path, settings_child): args is [path, bool]. */
static VALUE
config_eval_load_body(VALUE args)
{
    VALUE mod = rb_const_get(rb_cObject, rb_intern("Pitchfork"));
    VALUE klass = rb_const_get(mod, rb_intern("Configurator"));

    return rb_funcall(klass, rb_intern("load"), 2, RARRAY_AREF(args, 0),
                      RARRAY_AREF(args, 1));
}

/* Evaluate path; SETTINGS_CHILD: in the configuration child, where
 * working_directory binds when read (configurator.rb). */
static int
config_eval_load_as(const char *path, bool settings_child)
{
    int state = 0;
    VALUE args;

    pfruby_protect(config_eval_dsl_body, Qnil, &state);
    if (state == 0) {
        args = rb_assoc_new(rb_str_new_cstr(path),
                            settings_child ? Qtrue : Qfalse);
        pfruby_protect(config_eval_load_body, args, &state);
        RB_GC_GUARD(args);
    }
    if (state != 0) {
        log_err("cannot load the configuration file %s", path);
        return -1;
    }
    return 0;
}

int
config_eval_load(const char *path)
{
    return config_eval_load_as(path, false);
}

static VALUE
config_eval_report_body(VALUE unused)
{
    VALUE mod = rb_const_get(rb_cObject, rb_intern("Pitchfork"));
    VALUE cur = rb_funcall(rb_const_get(mod, rb_intern("Configurator")),
                           rb_intern("current"), 0);
    VALUE warnings = rb_funcall(cur, rb_intern("warnings"), 0);

    for (long i = 0; i < RARRAY_LEN(warnings); i++) {
        VALUE w = RARRAY_AREF(warnings, i);
        log_warn("%s", StringValueCStr(w));
    }
    return rb_funcall(cur, rb_intern("settings_lines"), 0);
}

/* In the child: evaluate the file, write its settings to fd, exit. */
void
config_eval_child(const struct settings *s, const char *path, int fd)
{
    PFRUBY_INIT_STACK;
    VALUE lines;
    int state = 0;
    size_t off = 0, len;

    if (vm_boot(s) < 0 || config_eval_load_as(path, true) < 0)
        _exit(1);
    lines = pfruby_protect(config_eval_report_body, Qnil, &state);
    if (state)
        _exit(1);
    len = (size_t)RSTRING_LEN(lines);
    while (off < len) {
        ssize_t n = write(fd, RSTRING_PTR(lines) + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_syserr("write the configuration to the monitor");
            _exit(1);
        }
        off += (size_t)n;
    }
    RB_GC_GUARD(lines);
    _exit(0);
}
