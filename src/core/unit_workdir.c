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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

/* A question to systemd answered within this, or not at all. */
#define UNIT_WORKDIR_TIMEOUT_USEC 1000000

/*
 * The object path of this process's unit, from systemd itself
 * (GetUnitByPID with pid 0, the caller): sd_pid_get_unit() reads
 * /proc/1/cgroup too, which ProtectProc=invisible hides.  On the heap,
 * or NULL with why filled.
 */
static char *
unit_workdir_unit_path(sd_bus *bus, char *why, size_t whysz)
{
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    const char *path = NULL;
    char *copy = NULL;
    int rc;

    rc = sd_bus_call_method(bus, "org.freedesktop.systemd1",
                            "/org/freedesktop/systemd1",
                            "org.freedesktop.systemd1.Manager", "GetUnitByPID",
                            &error, &reply, "u", (uint32_t)0);
    if (rc >= 0)
        rc = sd_bus_message_read(reply, "o", &path);
    if (rc >= 0 && (copy = strdup(path)) == NULL)
        rc = -ENOMEM;
    if (rc < 0)
        snprintf(why, whysz, "the unit of this process, over D-Bus: %s",
                 sd_bus_error_is_set(&error) ? error.message : strerror(-rc));
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    return copy;
}

/* Property WorkingDirectory of the unit at path, or NULL with why
 * filled. */
static char *
unit_workdir_property(sd_bus *bus, const char *path, char *why, size_t whysz)
{
    sd_bus_error error = SD_BUS_ERROR_NULL;
    char *value = NULL;
    int rc;

    rc = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                    "org.freedesktop.systemd1.Service",
                                    "WorkingDirectory", &error, &value);
    if (rc < 0)
        snprintf(why, whysz, "WorkingDirectory of %s over D-Bus: %s", path,
                 sd_bus_error_is_set(&error) ? error.message : strerror(-rc));
    sd_bus_error_free(&error);
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
unit_workdir_get(char *why, size_t whysz)
{
    sd_bus *bus = NULL;
    char *path = NULL, *value = NULL;
    int rc;

    why[0] = '\0';
    if (getenv("INVOCATION_ID") == NULL)
        return NULL; /* not started by systemd as a unit */
    rc = sd_bus_open_system(&bus);
    if (rc >= 0)
        rc = sd_bus_set_method_call_timeout(bus, UNIT_WORKDIR_TIMEOUT_USEC);
    if (rc < 0)
        snprintf(why, whysz, "the system bus: %s", strerror(-rc));
    else if ((path = unit_workdir_unit_path(bus, why, whysz)) != NULL)
        value = unit_workdir_property(bus, path, why, whysz);
    if (value != NULL && (value = unit_workdir_clean(value)) == NULL)
        snprintf(why, whysz, "%s has no WorkingDirectory= with a path", path);
    sd_bus_flush_close_unref(bus);
    free(path);
    return value;
}
