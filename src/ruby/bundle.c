/*
 * The application's bundle (see bundle.h): find the Gemfile the way
 * "bundle exec" would in the application's directory, then run the
 * embedded bundle.rb, which calls Bundler.setup.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/bundle.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <ruby.h>

#include "core/log.h"
#include "ruby/pfruby.h"

/* The Ruby source of src/ruby/bundle.rb, generated at build time. */
extern const char pfruby_bundle_rb[];

static char bundle_text[1024];
static bool bundle_done;

/*
 * The Gemfile to set up: BUNDLE_GEMFILE when set (bundle exec sets it),
 * else Gemfile in the working directory, else NULL.  Unlike Bundler,
 * the parent directories are not searched: a Gemfile above the
 * application is not the application's.
 */
static const char *
bundle_gemfile(void)
{
    const char *named = getenv("BUNDLE_GEMFILE");

    if (named != NULL && *named != '\0')
        return named;
    if (access("Gemfile", F_OK) == 0)
        return "Gemfile";
    if (errno != ENOENT && errno != ENOTDIR) /* let Bundler say why */
        return "Gemfile";
    return NULL;
}

/* Evaluate bundle.rb, then Pitchfork::Bundle.setup(gemfile). */
static VALUE
bundle_setup_body(VALUE gemfile)
{
    VALUE binding = rb_const_get(rb_cObject, rb_intern("TOPLEVEL_BINDING"));
    VALUE mod;

    rb_funcall(rb_cObject, rb_intern("eval"), 4,
               rb_utf8_str_new_cstr(pfruby_bundle_rb), binding,
               rb_str_new_cstr("<pitchfork>/bundle.rb"), INT2FIX(1));
    mod = rb_const_get(rb_const_get(rb_cObject, rb_intern("Pitchfork")),
                       rb_intern("Bundle"));
    return rb_funcall(mod, rb_intern("setup"), 1, gemfile);
}

int
bundle_setup(void)
{
    const char *gemfile = bundle_gemfile();
    VALUE r, exc, text;

    if (gemfile == NULL)
        return 0;
    r = pfruby_protect_exc(bundle_setup_body, rb_str_new_cstr(gemfile), &exc);
    if (!NIL_P(exc)) {
        char ctx[512];

        snprintf(ctx, sizeof(ctx), "cannot set up the bundle of %s", gemfile);
        pfruby_log_exception(LOGL_ERR, ctx, exc);
        return -1;
    }
    text = RB_TYPE_P(r, T_ARRAY) && RARRAY_LEN(r) == 2 ? RARRAY_AREF(r, 1)
                                                       : Qnil;
    if (!RB_TYPE_P(text, T_STRING)) {
        log_err("cannot set up the bundle of %s: no result", gemfile);
        return -1;
    }
    if (!RTEST(RARRAY_AREF(r, 0))) {
        log_err("%.*s", (int)RSTRING_LEN(text), RSTRING_PTR(text));
        return -1;
    }
    snprintf(bundle_text, sizeof(bundle_text), "%.*s", (int)RSTRING_LEN(text),
             RSTRING_PTR(text));
    bundle_done = true;
    RB_GC_GUARD(text);
    RB_GC_GUARD(r);
    return 0;
}

const char *
bundle_summary(void)
{
    return bundle_done ? bundle_text : NULL;
}
