/*
 * The WorkingDirectory= of the systemd service this process runs in,
 * read over D-Bus from systemd (see unit_workdir.h).  systemd sets no
 * PWD for a service and getcwd() resolves symlinks, so this is how a
 * service started in /srv/app/current learns that name.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/unit_workdir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-login.h>

#include "core/log.h"

/* A question to systemd answered within this, or not at all. */
#define UNIT_WORKDIR_TIMEOUT_USEC 1000000

/* Property WorkingDirectory of the unit's object path, or NULL (logged
 * at debug level). */
static char *
unit_workdir_property(sd_bus *bus, const char *unit)
{
    sd_bus_error error = SD_BUS_ERROR_NULL;
    char *path = NULL, *value = NULL;
    int rc;

    rc = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
    if (rc < 0) {
        errno = -rc;
        log_debug("D-Bus object path of %s: %s", unit, strerror(errno));
        return NULL;
    }
    rc = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                    "org.freedesktop.systemd1.Service",
                                    "WorkingDirectory", &error, &value);
    if (rc < 0)
        log_debug("WorkingDirectory of %s over D-Bus: %s", unit,
                  error.message ? error.message : strerror(-rc));
    sd_bus_error_free(&error);
    free(path);
    return rc < 0 ? NULL : value;
}

/* The value as a directory: "" (none) and "~" (the user's home) are
 * not one; a leading "!" (the "-" of WorkingDirectory=-/path, missing
 * is fine) is dropped.  Frees value when it returns NULL. */
static char *
unit_workdir_clean(char *value)
{
    if (value == NULL)
        return NULL;
    if (value[0] == '!')
        memmove(value, value + 1, strlen(value));
    if (value[0] != '/') {
        free(value);
        return NULL;
    }
    return value;
}

char *
unit_workdir_get(void)
{
    sd_bus *bus = NULL;
    char *unit = NULL, *value = NULL;
    int rc;

    if (getenv("INVOCATION_ID") == NULL)
        return NULL; /* not started by systemd as a unit */
    rc = sd_pid_get_unit(0, &unit);
    if (rc < 0) {
        log_debug("the unit of this process: %s", strerror(-rc));
        return NULL;
    }
    rc = sd_bus_open_system(&bus);
    if (rc >= 0)
        rc = sd_bus_set_method_call_timeout(bus, UNIT_WORKDIR_TIMEOUT_USEC);
    if (rc < 0)
        log_debug("the system bus, for the WorkingDirectory of %s: %s", unit,
                  strerror(-rc));
    else
        value = unit_workdir_clean(unit_workdir_property(bus, unit));
    sd_bus_flush_close_unref(bus);
    free(unit);
    return value;
}
