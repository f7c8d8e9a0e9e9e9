/*
 * The Ruby configuration file: settings for the monitor through a
 * short-lived child, hooks for the Ruby processes.  See config_file.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ruby.h>

#include "log.h"
#include "pfruby.h"
#include "settings.h"

extern const char pfruby_configurator_rb[];

#define CONFIG_OUTPUT_MAX (64 * 1024)

static VALUE
config_eval_dsl(VALUE unused)
{
    VALUE src = rb_utf8_str_new_cstr(pfruby_configurator_rb);

    return rb_funcall(rb_mKernel, rb_intern("eval"), 3, src,
                      rb_const_get(rb_cObject, rb_intern("TOPLEVEL_BINDING")),
                      rb_str_new_cstr("pitchfork/configurator.rb"));
}

static VALUE
config_load_body(VALUE path)
{
    VALUE mod = rb_const_get(rb_cObject, rb_intern("Pitchfork"));
    VALUE klass = rb_const_get(mod, rb_intern("Configurator"));

    return rb_funcall(klass, rb_intern("load"), 1, path);
}

int
config_file_load(const char *path)
{
    int state = 0;

    pfruby_protect(config_eval_dsl, Qnil, &state);
    if (state == 0)
        pfruby_protect(config_load_body, rb_str_new_cstr(path), &state);
    if (state != 0) {
        log_err("cannot load the configuration file %s", path);
        return -1;
    }
    return 0;
}

static VALUE
config_report_body(VALUE unused)
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
static void __attribute__((noreturn))
config_child(const struct settings *s, const char *path, int fd)
{
    PFRUBY_INIT_STACK;
    VALUE lines;
    int state = 0;
    size_t off = 0, len;

    if (pfruby_boot(s) < 0 || config_file_load(path) < 0)
        _exit(1);
    lines = pfruby_protect(config_report_body, Qnil, &state);
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

/* Read everything the child wrote; returns a heap string or NULL. */
static char *
config_read_all(int fd)
{
    char *buf = malloc(CONFIG_OUTPUT_MAX + 1);
    size_t len = 0;
    ssize_t n;

    if (buf == NULL)
        return NULL;
    while (len < CONFIG_OUTPUT_MAX &&
           ((n = read(fd, buf + len, CONFIG_OUTPUT_MAX - len)) != 0)) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_syserr("read the configuration from its child");
            free(buf);
            return NULL;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

/* Apply "name\tvalue\n" lines to s. */
static int
config_apply_lines(struct settings *s, const char *path, char *lines)
{
    char *save = NULL, err[1024], origin[512];

    for (char *l = strtok_r(lines, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(l, '\t');
        const struct setting_def *d;
        if (tab == NULL)
            continue;
        *tab = '\0';
        d = settings_find(l);
        if (d == NULL) {
            log_err("%s: unknown setting %s", path, l);
            return -1;
        }
        snprintf(origin, sizeof(origin), "%s in %s", l, path);
        if (settings_set(s, d, tab + 1, origin, err, sizeof(err)) < 0) {
            log_err("%s", err);
            return -1;
        }
    }
    return 0;
}

int
config_file_apply(struct settings *s, const char *path)
{
    int fds[2], st = 0, rc;
    char *out;
    pid_t pid;

    if (access(path, R_OK) < 0) {
        log_syserr("configuration file %s", path);
        return -1;
    }
    if (pipe2(fds, O_CLOEXEC) < 0) {
        log_syserr("pipe for the configuration file");
        return -1;
    }
    fflush(NULL);
    if ((pid = fork()) < 0) {
        log_syserr("fork to read the configuration file");
        return -1;
    }
    if (pid == 0) {
        (void)close(fds[0]); /* the reading end is the monitor's */
        config_child(s, path, fds[1]);
    }
    (void)close(fds[1]); /* so that EOF arrives when the child exits */
    out = config_read_all(fds[0]);
    (void)close(fds[0]);
    while ((rc = (int)waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (rc < 0)
        log_syserr("waitpid for the configuration file's child");
    rc = -1;
    if (out != NULL && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        rc = config_apply_lines(s, path, out);
    else
        log_err("the configuration file %s could not be evaluated", path);
    free(out);
    return rc;
}
