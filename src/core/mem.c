/* core/mem.c: huge-page-backed anonymous mappings. */
#include "core/mem.h"

#include <stdint.h>
#include <sys/mman.h>

#define HUGE_BYTES (2u << 20)

static size_t round_up(size_t n)
{
    size_t page = n >= HUGE_BYTES ? HUGE_BYTES : 4096;
    return (n + page - 1) / page * page;
}

static void advise(void *p, size_t n)
{
    if (n >= HUGE_BYTES)
        (void)madvise(p, n, MADV_HUGEPAGE); /* a hint: failure only costs speed */
}

void *np_mem_alloc(size_t n)
{
    n = round_up(n ? n : 1);
    /* Huge pages back only the 2 MiB-aligned part of a mapping: map 2 MiB
     * more than asked and trim the ends so the region starts aligned. */
    size_t slack = n >= HUGE_BYTES ? HUGE_BYTES : 0;
    uint8_t *p = mmap(NULL, n + slack, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (slack != 0) {
        size_t head = (HUGE_BYTES - (uintptr_t)p % HUGE_BYTES) % HUGE_BYTES;
        if (head != 0)
            munmap(p, head);
        if (slack - head != 0)
            munmap(p + head + n, slack - head);
        p += head;
    }
    advise(p, n);
    return p;
}

void *np_mem_resize(void *p, size_t old_n, size_t new_n)
{
    if (p == NULL)
        return np_mem_alloc(new_n);
    old_n = round_up(old_n ? old_n : 1);
    new_n = round_up(new_n ? new_n : 1);
    void *q = mremap(p, old_n, new_n, MREMAP_MAYMOVE);
    if (q == MAP_FAILED)
        return NULL;
    advise(q, new_n);
    return q;
}

void np_mem_free(void *p, size_t n)
{
    if (p != NULL)
        munmap(p, round_up(n ? n : 1));
}
