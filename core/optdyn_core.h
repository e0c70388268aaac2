/* optdyn core — the public header of the core module (prefix od_).
 *
 *   status.h    status codes, od_strerror, OD_ERROR and the error handler
 *   param.h     typed parameter tables (defaults, ranges, help) and spec strings
 *   stream.h    addressed Philox streams: uniforms, normals, signs, indices, GSL adapter
 *   linalg.h    vectors and small dense linear algebra over CBLAS and GSL
 *   problem.h   the problem (oracle) interface and the core's built-in problems
 *   output.h    atomic files, TSV tables, manifest.json, version
 *   ensemble.h  ensemble runner, parallel map, recording times, progress display
 */
#ifndef OPTDYN_CORE_H
#define OPTDYN_CORE_H

#include "core/status.h"
#include "core/param.h"
#include "core/stream.h"
#include "core/linalg.h"
#include "core/problem.h"
#include "core/output.h"
#include "core/ensemble.h"

#endif /* OPTDYN_CORE_H */
