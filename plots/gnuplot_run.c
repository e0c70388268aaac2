/* optdyn plots — running gnuplot (see plots_impl.h): finding the executable ($OPTDYN_GNUPLOT or
 * the PATH), running it on a written script without a shell, capturing its messages to quote the
 * first error, and renaming the picture into place only when gnuplot drew one.
 */
#include "plots/plots_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/status.h"

/* ---- finding gnuplot ------------------------------------------------------------------------- */

static int is_exec(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Full path of the gnuplot to run in buf: $OPTDYN_GNUPLOT when set (a path, or a name looked up on
 * the PATH), else "gnuplot" on the PATH.  0 when there is none. */
static int find_gnuplot(char *buf, size_t len)
{
    const char *want = getenv("OPTDYN_GNUPLOT");
    if (!want || !*want) want = "gnuplot";
    if (strchr(want, '/')) {
        if (!is_exec(want) || strlen(want) >= len) return 0;
        memcpy(buf, want, strlen(want) + 1);
        return 1;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *d = path;; d++) {
        const char *e = strchr(d, ':');
        size_t dl = e ? (size_t)(e - d) : strlen(d);
        int n = dl ? snprintf(buf, len, "%.*s/%s", (int)dl, d, want)
                   : snprintf(buf, len, "./%s", want);
        if (n > 0 && (size_t)n < len && is_exec(buf)) return 1;
        if (!e) break;
        d = e;
    }
    return 0;
}

int od_plot_have_gnuplot(void)
{
    char buf[4096];
    return find_gnuplot(buf, sizeof buf);
}

static void warn_no_gnuplot(void)
{
    static atomic_int warned = 0;
    if (atomic_exchange(&warned, 1) == 0)
        fputs("optdyn: warning: gnuplot not found (install gnuplot or set OPTDYN_GNUPLOT); "
              "figures not drawn; data and .gp scripts are written\n", stderr);
}

/* ---- running gnuplot ------------------------------------------------------------------------- */

/* The first error line of gnuplot's messages (a line that names the script and is not a warning),
 * else the first non-empty line that is not a warning, else the first non-empty line. */
static void first_error(int fd, char *buf, size_t len)
{
    buf[0] = '\0';
    char text[8192];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0) return;
    text[n] = '\0';
    const char *pick[3] = {NULL, NULL, NULL};
    size_t plen[3] = {0, 0, 0};
    for (char *l = text; *l;) {
        char *e = strchr(l, '\n');
        size_t ll = e ? (size_t)(e - l) : strlen(l);
        int blank = 1;
        for (size_t i = 0; i < ll; i++)
            if (l[i] != ' ' && l[i] != '\t' && l[i] != '^' && l[i] != '\r') blank = 0;
        if (!blank) {
            char save = l[ll];
            l[ll] = '\0';
            int warn = strstr(l, "warning:") != NULL;
            int named = strstr(l, "\" line ") != NULL || strstr(l, "line ") == l;
            int slot = named && !warn ? 0 : !warn ? 1 : 2;
            if (!pick[slot]) {
                pick[slot] = l;
                plen[slot] = ll;
            }
            l[ll] = save;
        }
        if (!e) break;
        l = e + 1;
    }
    for (int s = 0; s < 3; s++)
        if (pick[s]) {
            size_t m = plen[s] < len - 1 ? plen[s] : len - 1;
            size_t o = 0;
            const char *t = pick[s];
            while (m > 0 && (*t == ' ' || *t == '\t')) {
                t++;
                m--;
            }
            for (size_t i = 0; i < m; i++)
                if ((unsigned char)t[i] >= 0x20) buf[o++] = t[i];
            buf[o] = '\0';
            return;
        }
}

/* Runs `gnuplot -c script tmpout` in dir.  OD_OK, or OD_EIO with the reason. */
static int run_gnuplot(const char *gp, const char *dir, const char *script, const char *tmpout)
{
    char errname[700];
    if (snprintf(errname, sizeof errname, ".%s.gnuplot-messages.tmp.%ld", script,
                 (long)getpid()) >= (int)sizeof errname)
        OD_ERRORF(OD_EINVAL, "figure script name '%s' too long", script);
    char *errpath = od_path_join(dir, errname);
    if (!errpath) OD_ERROR("out of memory", OD_ENOMEM);
    int errfd = open(errpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int e = errno;
    if (errfd >= 0) unlink(errpath);   /* the messages live only as long as the descriptor */
    free(errpath);
    if (errfd < 0)
        OD_ERRORF(OD_EIO, "cannot run gnuplot for '%s/%s': cannot create a temporary file: %s",
                  dir, script, strerror(e));
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* everything the child needs is prepared before fork: it only calls async-signal-safe
     * functions */
    char a0[] = "gnuplot", a1[] = "-c";
    char *sc = strdup(script), *to = strdup(tmpout);
    char *argv[] = {a0, a1, sc, to, NULL};
    pid_t pid = (sc && to && nullfd >= 0) ? fork() : -2;
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(126);
        if (dup2(nullfd, 0) < 0 || dup2(errfd, 1) < 0 || dup2(errfd, 2) < 0) _exit(126);
        execv(gp, argv);
        _exit(127);
    }
    e = errno;
    free(sc);
    free(to);
    if (nullfd >= 0) close(nullfd);
    if (pid < 0) {
        close(errfd);
        OD_ERRORF(OD_EIO, "cannot run gnuplot for '%s/%s': %s", dir, script,
                  pid == -2 ? "out of resources" : strerror(e));
    }
    int st = 0;
    pid_t w;
    while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {
    }
    char msg[400];
    first_error(errfd, msg, sizeof msg);
    close(errfd);
    if (w < 0)
        OD_ERRORF(OD_EIO, "gnuplot on '%s/%s': cannot wait for it: %s", dir, script,
                  strerror(errno));
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return OD_OK;
    if (WIFEXITED(st) && WEXITSTATUS(st) >= 126 && !msg[0])
        OD_ERRORF(OD_EIO, "cannot run gnuplot '%s' in folder '%s' for '%s'", gp, dir, script);
    if (WIFSIGNALED(st))
        OD_ERRORF(OD_EIO, "gnuplot failed on '%s/%s' (killed by signal %d)%s%s", dir, script,
                  WTERMSIG(st), msg[0] ? ": " : "", msg);
    OD_ERRORF(OD_EIO, "gnuplot failed on '%s/%s' (exit status %d): %s", dir, script,
              WEXITSTATUS(st), msg[0] ? msg : "no message");
}

int od_plot_render(const char *name, const char *dir, od_plot_format fmt)
{
    char gp[4096];
    if (!find_gnuplot(gp, sizeof gp)) {
        warn_no_gnuplot();
        return OD_OK;
    }
    char script[600], tmpout[700], final[600];
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(final, sizeof final, "%s.%s", name, od_plot_ext(fmt));
    snprintf(tmpout, sizeof tmpout, ".%s.tmp.%ld", final, (long)getpid());
    char *tmppath = od_path_join(dir, tmpout), *finalpath = od_path_join(dir, final);
    int status = (tmppath && finalpath) ? OD_OK : OD_ENOMEM;
    if (status == OD_OK) status = run_gnuplot(gp, dir, script, tmpout);
    if (status == OD_OK) {
        struct stat st;
        if (stat(tmppath, &st) != 0 || st.st_size == 0)
            status = od_error(OD_EIO, __FILE__, __LINE__,
                              "gnuplot ran on '%s/%s' but wrote no picture (%s missing or empty)",
                              dir, script, final);
        else if (rename(tmppath, finalpath) != 0)
            status = od_error(OD_EIO, __FILE__, __LINE__, "cannot rename the picture to '%s': %s",
                              finalpath, strerror(errno));
    }
    if (tmppath) remove(tmppath);   /* no-op after a successful rename */
    free(tmppath);
    free(finalpath);
    if (status == OD_ENOMEM) OD_ERROR("out of memory", OD_ENOMEM);
    return status;
}
