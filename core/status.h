/* optdyn core — status codes and error reporting.
 *
 * Every fallible function in optdyn returns an int status: OD_OK (0) on success, one of the codes
 * below otherwise.  The codes and their messages come from one X-macro list, so they cannot drift
 * apart (the SUNDIALS habit).  Errors are reported through OD_ERROR / OD_ERRORF, which call a
 * settable handler with the file and line and then return the code from the calling function.
 * The library never calls abort() or exit(); the program decides what to do.
 */
#ifndef OD_STATUS_H
#define OD_STATUS_H

#include <stddef.h>

/* X(symbol, value, message) */
#define OD_STATUS_LIST(X)                                                         \
    X(OD_OK, 0, "success")                                                        \
    X(OD_EINVAL, 1, "invalid argument")                                           \
    X(OD_ERANGE, 2, "value out of range")                                         \
    X(OD_ENOMEM, 3, "out of memory")                                              \
    X(OD_EIO, 4, "input/output error")                                            \
    X(OD_EPARSE, 5, "malformed input")                                            \
    X(OD_ENOTFOUND, 6, "not found")                                               \
    X(OD_ENOTSUP, 7, "operation not supported by this object")                    \
    X(OD_EDIVERGED, 8, "iteration diverged")                                      \
    X(OD_EMAXITER, 9, "maximum number of iterations reached")                     \
    X(OD_ENUMERIC, 10, "numerical failure")                                       \
    X(OD_EGSL, 11, "GSL reported an error")                                       \
    X(OD_EBADSIZE, 12, "inconsistent sizes")                                      \
    X(OD_EINTERNAL, 13, "internal error")

typedef enum {
#define OD_X_ENUM(sym, val, msg) sym = val,
    OD_STATUS_LIST(OD_X_ENUM)
#undef OD_X_ENUM
} od_status;

/* The message of a status code ("unknown status" for a value not in the list). */
const char *od_strerror(int status);

/* An error handler receives the reason, the source file and line where it was raised, and the code.
 * It must return (it may log, record or ignore); it must not longjmp out of library code that holds
 * resources. */
typedef void od_error_handler_fn(const char *reason, const char *file, int line, int status);

/* Installs handler (NULL restores the default) and returns the previous one.  The default handler
 * records the message for od_last_error() and prints nothing.  Process-wide; set it once before
 * starting threads. */
od_error_handler_fn *od_set_error_handler(od_error_handler_fn *handler);

/* Raises an error: formats the reason, records it as this thread's last error, calls the handler.
 * Returns status so it can be used in return statements. */
int od_error(int status, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The reason of the last error raised in this thread ("" if none).  Valid until the next error in
 * the same thread. */
const char *od_last_error(void);

/* Clears this thread's last error. */
void od_clear_error(void);

/* Report and return from the current function. */
#define OD_ERROR(reason, status) return od_error((status), __FILE__, __LINE__, "%s", (reason))
#define OD_ERRORF(status, ...) return od_error((status), __FILE__, __LINE__, __VA_ARGS__)

/* Evaluate an int-returning call and return its status if it is not OD_OK. */
#define OD_TRY(call)                                                                             \
    do {                                                                                         \
        int od_try_status_ = (call);                                                             \
        if (od_try_status_ != OD_OK) return od_try_status_;                                      \
    } while (0)

#endif /* OD_STATUS_H */
