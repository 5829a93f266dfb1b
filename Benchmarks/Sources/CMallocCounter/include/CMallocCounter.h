#ifndef CMALLOCCOUNTER_H
#define CMALLOCCOUNTER_H

#include <stdint.h>

/// Allocations made by the process so far (malloc, calloc, realloc,
/// posix_memalign, aligned_alloc, memalign), or -1 where counting is not
/// available (anything but glibc Linux).
int64_t apimetrics_allocation_count(void);

#endif
