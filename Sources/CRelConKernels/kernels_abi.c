/* Compile-time checks of the internal kernel argument block (include/relcon_kernels.h). Defines nothing.
 * Eight pointers, eight int64, six int32: 152 bytes on LP64 (x86-64, aarch64), 120 on ILP32 (Cortex-M). */
#include <stddef.h>
#include "relcon_kernels.h"

_Static_assert(offsetof(rlck_conv, length_in) == 8 * sizeof(void *), "rlck_conv layout");
_Static_assert(offsetof(rlck_conv, relu) == 8 * sizeof(void *) + 8 * 8, "rlck_conv layout");
_Static_assert(sizeof(rlck_conv) == 8 * sizeof(void *) + 8 * 8 + 6 * 4, "rlck_conv layout");
