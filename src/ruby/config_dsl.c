/*
 * Pitchfork::ConfigDSL: the rows of the settings table and the hook
 * names as the configuration file's DSL sees them.  configurator.rb
 * defines one setter per row with a DSL method and checks the options
 * of listen and timeout against the rows, and encode() turns a Ruby
 * value into the text the monitor parses, after checking that its Ruby
 * type fits the row's type.  See config_dsl.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/config_dsl.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <ruby.h>

#include "core/settings_table.h"
#include "ruby/hooks.h"

/* The text of a Symbol or String argument. */
static const char *
config_dsl_cstr(VALUE *v)
{
    if (SYMBOL_P(*v))
        return rb_id2name(SYM2ID(*v));
    return StringValueCStr(*v);
}

/* True when dsl is option followed by a colon ("cleanup:"). */
static bool
config_dsl_is_option(const char *dsl, const char *option)
{
    size_t n = strlen(option);

    return strncmp(dsl, option, n) == 0 && strcmp(dsl + n, ":") == 0;
}

/* The row of DSL method method, or of its option option when option is
 * not NULL; NULL when there is none. */
static const struct setting_def *
config_dsl_row(const char *method, const char *option)
{
    for (size_t i = 0; i < settings_table_count; i++) {
        const struct setting_def *d = &settings_table[i];
        if (d->dsl == NULL)
            continue;
        if (option == NULL && d->dsl_of == NULL && strcmp(d->dsl, method) == 0)
            return d;
        if (option != NULL && d->dsl_of != NULL &&
            strcmp(d->dsl_of, method) == 0 &&
            config_dsl_is_option(d->dsl, option))
            return d;
    }
    return NULL;
}

/* Raise ArgumentError "LABEL: expected WHAT, got VALUE.inspect". */
static void
config_dsl_refuse(const char *label, const char *what, VALUE value)
{
    rb_raise(rb_eArgError, "%s: expected %s, got %" PRIsVALUE, label, what,
             rb_inspect(value));
}

/* An Integer as octal digits ("0007"); a negative or huge one as it is,
 * for the monitor to refuse with the allowed range. */
static VALUE
config_dsl_octal(const char *label, VALUE value)
{
    char buf[32];

    if (!RB_INTEGER_TYPE_P(value))
        config_dsl_refuse(label, "an Integer", value);
    if (!FIXNUM_P(value) || FIX2LONG(value) < 0)
        return rb_obj_as_string(value);
    snprintf(buf, sizeof(buf), "%04lo", (unsigned long)FIX2LONG(value));
    return rb_str_new_cstr(buf);
}

/* refork_after: an Integer or an Array of them, optionally ending with
 * false, as "50,100,false". */
static VALUE
config_dsl_refork(const char *label, VALUE value)
{
    VALUE list = rb_Array(value), text = rb_str_new(NULL, 0);
    long n = RARRAY_LEN(list);

    for (long i = 0; i < n; i++) {
        VALUE v = RARRAY_AREF(list, i);
        if (!RB_INTEGER_TYPE_P(v) && !(v == Qfalse && i == n - 1))
            config_dsl_refuse(label,
                              "an Array of Integers, optionally ending "
                              "with false",
                              list);
        if (i > 0)
            rb_str_cat_cstr(text, ",");
        rb_str_append(text, v == Qfalse ? rb_str_new_cstr("false")
                                        : rb_obj_as_string(v));
    }
    RB_GC_GUARD(list);
    return text;
}

/* A String, on one line; a list's entry without a comma (the monitor
 * splits lists on commas). */
static VALUE
config_dsl_string(const char *label, VALUE value, bool entry)
{
    const char *bad = entry ? ",\r\n" : "\r\n";

    if (!RB_TYPE_P(value, T_STRING))
        config_dsl_refuse(label, "a String", value);
    for (long i = 0; i < RSTRING_LEN(value); i++)
        if (RSTRING_PTR(value)[i] == '\0' ||
            strchr(bad, RSTRING_PTR(value)[i]) != NULL)
            config_dsl_refuse(label,
                              entry ? "a String without a comma or a line "
                                      "break"
                                    : "a String without a line break",
                              value);
    return value;
}

/* value, for row d, as the monitor parses it; raises ArgumentError
 * naming label when its Ruby type does not fit the row's type. */
static VALUE
config_dsl_text(const struct setting_def *d, const char *label, VALUE value)
{
    switch (d->type) {
    case SET_INT:
    case SET_BYTES:
        if (!RB_INTEGER_TYPE_P(value))
            config_dsl_refuse(label, "an Integer", value);
        return rb_obj_as_string(value);
    case SET_SECONDS:
        if (!rb_obj_is_kind_of(value, rb_cNumeric))
            config_dsl_refuse(label, "a number of seconds", value);
        return rb_obj_as_string(value);
    case SET_BOOL:
        if (value != Qtrue && value != Qfalse)
            config_dsl_refuse(label, "true or false", value);
        return rb_str_new_cstr(value == Qtrue ? "true" : "false");
    case SET_OCTAL: return config_dsl_octal(label, value);
    case SET_HARD_MEMORY: /* 64 << 20 as well as "64M" or "25%" */
        if (RB_INTEGER_TYPE_P(value))
            return rb_obj_as_string(value);
        return config_dsl_string(label, value, false);
    case SET_REFORK: return config_dsl_refork(label, value);
    case SET_LIST: return config_dsl_string(label, value, true);
    default: return config_dsl_string(label, value, false);
    }
}

/* ConfigDSL.encode(method, value, option = nil) -> [name, text] */
static VALUE
config_dsl_encode(int argc, VALUE *argv, VALUE self)
{
    VALUE method, value, option;
    const char *m, *o;
    const struct setting_def *d;
    char label[128];

    (void)self;
    rb_scan_args(argc, argv, "21", &method, &value, &option);
    m = config_dsl_cstr(&method);
    o = NIL_P(option) ? NULL : config_dsl_cstr(&option);
    d = config_dsl_row(m, o);
    if (d == NULL)
        rb_raise(rb_eArgError, "%s%s%s: not a setting of the DSL", m,
                 o ? ": " : "", o ? o : "");
    snprintf(label, sizeof(label), "%s%s%s", m, o ? ": " : "", o ? o : "");
    return rb_assoc_new(ID2SYM(rb_intern(d->name)),
                        config_dsl_text(d, label, value));
}

/* ConfigDSL.setters -> the DSL methods of the settings table's rows. */
static VALUE
config_dsl_setters(VALUE self)
{
    VALUE list = rb_ary_new();

    (void)self;
    for (size_t i = 0; i < settings_table_count; i++) {
        const struct setting_def *d = &settings_table[i];
        if (d->dsl != NULL && d->dsl_of == NULL)
            rb_ary_push(list, ID2SYM(rb_intern(d->dsl)));
    }
    return list;
}

/* ConfigDSL.options(method) -> its option keys, without the colon. */
static VALUE
config_dsl_options(VALUE self, VALUE method)
{
    const char *m = config_dsl_cstr(&method);
    VALUE list = rb_ary_new();

    (void)self;
    for (size_t i = 0; i < settings_table_count; i++) {
        const struct setting_def *d = &settings_table[i];
        if (d->dsl_of != NULL && strcmp(d->dsl_of, m) == 0)
            rb_ary_push(list,
                        ID2SYM(rb_intern2(d->dsl, (long)strlen(d->dsl) - 1)));
    }
    return list;
}

/* ConfigDSL.hooks -> the hooks' names, in the order of enum hook. */
static VALUE
config_dsl_hooks(VALUE self)
{
    VALUE list = rb_ary_new_capa(HOOK_MAX);

    (void)self;
    for (int h = 0; h < HOOK_MAX; h++)
        rb_ary_push(list, ID2SYM(rb_intern(hooks_name((enum hook)h))));
    return list;
}

void
config_dsl_define(void)
{
    VALUE pitchfork = rb_define_module("Pitchfork");
    VALUE m = rb_define_module_under(pitchfork, "ConfigDSL");

    rb_define_singleton_method(m, "setters", config_dsl_setters, 0);
    rb_define_singleton_method(m, "options", config_dsl_options, 1);
    rb_define_singleton_method(m, "encode", config_dsl_encode, -1);
    rb_define_singleton_method(m, "hooks", config_dsl_hooks, 0);
}
