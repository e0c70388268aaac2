/* optdyn core — status codes and error reporting (see status.h). */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>

const char *od_strerror(int status)
{
    switch (status) {
#define OD_X_CASE(sym, val, msg) \
    case val:                    \
        return msg;
        OD_STATUS_LIST(OD_X_CASE)
#undef OD_X_CASE
    default:
        return "unknown status";
    }
}

static _Thread_local char od_last_reason[1024];

static void od_default_handler(const char *reason, const char *file, int line, int status)
{
    (void)reason; (void)file; (void)line; (void)status;   /* the reason is already recorded */
}

static od_error_handler_fn *od_handler = od_default_handler;

od_error_handler_fn *od_set_error_handler(od_error_handler_fn *handler)
{
    od_error_handler_fn *old = od_handler;
    od_handler = handler ? handler : od_default_handler;
    return old;
}

int od_error(int status, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(od_last_reason, sizeof od_last_reason, fmt, ap);
    va_end(ap);
    od_handler(od_last_reason, file, line, status);
    return status;
}

const char *od_last_error(void) { return od_last_reason; }

void od_clear_error(void) { od_last_reason[0] = '\0'; }
