/*
 * The shared worker table, one anonymous shared mapping inherited by
 * every child.  See shm.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/shm.h"

#include <sys/mman.h>

#include "core/log.h"

struct shm_slot *
shm_create(void)
{
    size_t size = sizeof(struct shm_slot) * SHM_SLOTS;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED) {
        log_syserr("mmap of the shared worker table (%zu bytes)", size);
        return NULL;
    }
    return p;
}
