/* batchnorm_rows_types.h: the row loops in float and in double for one path BN_PATH. Included
 * once per path by batchnorm_rows.h; do not include it directly. */
#define BN_T float
#define BN_SUFFIX f32
#include "batchnorm_rows_impl.h"
#undef BN_T
#undef BN_SUFFIX

#define BN_T double
#define BN_SUFFIX f64
#include "batchnorm_rows_impl.h"
#undef BN_T
#undef BN_SUFFIX
