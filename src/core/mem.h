/* core/mem.h: large, growable memory for tables (flow pool, indexes).
 *
 * Anonymous mappings asked to use transparent huge pages: a page fault costs
 * microseconds in this kind of VM, and a 2 MiB page faults once where 4 KiB
 * pages would fault 512 times. Growth uses mremap, which moves page tables
 * instead of copying bytes. Mappings do not reserve swap (MAP_NORESERVE):
 * a table may map its whole bound up front and its pages become real only
 * as they are first written, so memory follows use. Slow path only.
 */
#ifndef NP_CORE_MEM_H
#define NP_CORE_MEM_H

#include <stddef.h>

/* A zero-filled region of at least n bytes, or NULL. */
void *np_mem_alloc(size_t n);
/* Grows (or shrinks) p from old_n to new_n bytes, keeping its contents; new
 * bytes are zero. Returns the new address, or NULL with p unchanged. */
void *np_mem_resize(void *p, size_t old_n, size_t new_n);
/* Frees what np_mem_alloc/np_mem_resize returned (NULL is a no-op). */
void np_mem_free(void *p, size_t n);

#endif
