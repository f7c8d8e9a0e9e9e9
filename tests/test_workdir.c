/*
 * Unit tests of the working directory as named (core/workdir.h): which
 * name the start directory gets ($PWD when it is ".", else getcwd()),
 * paths made absolute against it without resolving anything, settling
 * the setting, the error text of a directory that cannot be entered,
 * and a variable naming a file there renamed through it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/settings.h"
#include "core/workdir.h"
#include "tap.h"

static char err[1024], how[1024];

static void
test_join(void)
{
    char *p;

    is_str(p = workdir_join("/srv/app", "config.ru"), "/srv/app/config.ru",
           "a relative path is joined to the directory");
    free(p);
    is_str(p = workdir_join("/srv/app/", "./config/pitchfork.rb"),
           "/srv/app/config/pitchfork.rb",
           "without a doubled slash or a ./ prefix");
    free(p);
    is_str(p = workdir_join("/srv/app", "/etc/pf.rb"), "/etc/pf.rb",
           "an absolute path is kept");
    free(p);
    is_str(p = workdir_join("/srv/app/current", "."), "/srv/app/current",
           "\".\" is the directory itself");
    free(p);
    is_str(p = workdir_join("/", "x"), "/x", "below /");
    free(p);
}

/* In the scratch directory top: link -> real, and a sibling "other". */
static void
test_start(const char *top)
{
    char real[PATH_MAX], link[PATH_MAX], other[PATH_MAX], *dir;

    snprintf(real, sizeof(real), "%s/real", top);
    snprintf(link, sizeof(link), "%s/link", top);
    snprintf(other, sizeof(other), "%s/other", top);
    if (mkdir(real, 0700) < 0 || mkdir(other, 0700) < 0 ||
        symlink("real", link) < 0 || chdir(link) < 0)
        bail("cannot set up %s", top);
    unsetenv("INVOCATION_ID"); /* no systemd to ask */

    setenv("PWD", link, 1);
    is_str(dir = workdir_start(how, sizeof(how), err, sizeof(err)), link,
           "$PWD naming the current directory through a symlink is kept");
    is_str(how, "as $PWD names it", "and said so");
    free(dir);

    setenv("PWD", other, 1);
    is_str(dir = workdir_start(how, sizeof(how), err, sizeof(err)), real,
           "$PWD naming another directory: getcwd(), symlink resolved");
    is_str(how, "from getcwd(), symlinks resolved", "and said so");
    free(dir);

    setenv("PWD", "link", 1);
    is_str(dir = workdir_start(how, sizeof(how), err, sizeof(err)), real,
           "a relative $PWD is not taken");
    free(dir);

    unsetenv("PWD");
    is_str(dir = workdir_start(how, sizeof(how), err, sizeof(err)), real,
           "no $PWD: getcwd()");
    free(dir);
}

static void
test_settle(const char *top)
{
    struct settings s;
    char start[PATH_MAX], want[PATH_MAX], cwd[PATH_MAX];

    snprintf(start, sizeof(start), "%s/link", top);
    settings_defaults(&s);
    is_int(workdir_settle(&s, start, err, sizeof(err)), 0, "unset: settled");
    is_str(s.working_directory, start, "to the start directory");
    is_str(getenv("PWD"), start, "PWD is set to it");

    free(s.working_directory);
    s.working_directory = strdup("../other");
    snprintf(want, sizeof(want), "%s/link/../other", top);
    is_int(workdir_settle(&s, start, err, sizeof(err)), 0,
           "a relative value: settled");
    is_str(s.working_directory, want, "against the start directory, as named");
    snprintf(want, sizeof(want), "%s/other", top);
    ok(getcwd(cwd, sizeof(cwd)) != NULL && strcmp(cwd, want) == 0,
       "and entered");

    free(s.working_directory);
    s.working_directory = strdup("/nonexistent/pitchfork");
    is_int(workdir_settle(&s, start, err, sizeof(err)), -1,
           "a missing directory is refused");
    is_str(err,
           "working_directory /nonexistent/pitchfork: chdir: No such file "
           "or directory",
           "naming the setting, the value and the reason");
    settings_free(&s);
}

static void
test_follow_env(const char *top)
{
    char link[PATH_MAX], v[PATH_MAX], want[PATH_MAX];

    snprintf(link, sizeof(link), "%s/link", top);
    snprintf(v, sizeof(v), "%s/real/Gemfile", top);
    snprintf(want, sizeof(want), "%s/link/Gemfile", top);
    setenv("PF_TEST_GEMFILE", v, 1);
    is_int(workdir_follow_env(link, "PF_TEST_GEMFILE", err, sizeof(err)), 1,
           "a file in the directory, by its resolved name: renamed");
    is_str(getenv("PF_TEST_GEMFILE"), want, "through the directory as named");
    is_int(workdir_follow_env(link, "PF_TEST_GEMFILE", err, sizeof(err)), 0,
           "already named through it: kept");
    snprintf(v, sizeof(v), "%s/other/Gemfile", top);
    setenv("PF_TEST_GEMFILE", v, 1);
    is_int(workdir_follow_env(link, "PF_TEST_GEMFILE", err, sizeof(err)), 0,
           "a file in another directory: kept");
    setenv("PF_TEST_GEMFILE", "Gemfile", 1);
    is_int(workdir_follow_env(link, "PF_TEST_GEMFILE", err, sizeof(err)), 0,
           "a relative name: kept");
    unsetenv("PF_TEST_GEMFILE");
    is_int(workdir_follow_env(link, "PF_TEST_GEMFILE", err, sizeof(err)), 0,
           "unset: nothing to do");
}

int
main(void)
{
    char top[] = "/tmp/pftest_workdir.XXXXXX";
    char cmd[PATH_MAX + 16];

    plan(25);
    if (mkdtemp(top) == NULL)
        bail("mkdtemp");
    test_join();
    test_start(top);
    test_settle(top);
    test_follow_env(top);
    if (chdir("/") < 0)
        bail("chdir /");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
    if (system(cmd) != 0)
        diag("could not remove %s", top);
    return done_testing();
}
