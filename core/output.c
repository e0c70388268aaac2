/* optdyn core — atomic output files and folders (see output.h). */
#include "core/output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"

char *od_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

int od_mkdir_p(const char *dir)
{
    if (!dir || !*dir) OD_ERROR("empty output folder name", OD_EINVAL);
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p) OD_ERROR("out of memory", OD_ENOMEM);
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            OD_ERRORF(OD_EIO, "cannot create output folder '%s': %s", dir, strerror(e));
        }
        p[i] = c;
    }
    free(p);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        OD_ERRORF(OD_EIO, "output folder '%s' is not a folder", dir);
    if (access(dir, W_OK | X_OK) != 0)
        OD_ERRORF(OD_EIO, "output folder '%s' is not writable: %s", dir, strerror(errno));
    return OD_OK;
}

int od_outfile_open(od_outfile *o, const char *dir, const char *name)
{
    memset(o, 0, sizeof *o);
    char tmpname[512];
    snprintf(tmpname, sizeof tmpname, ".%s.tmp.%ld", name, (long)getpid());
    o->final = od_path_join(dir, name);
    o->tmp = od_path_join(dir, tmpname);
    if (!o->final || !o->tmp) {
        od_outfile_abort(o);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    o->f = fopen(o->tmp, "w");
    if (!o->f) {
        int e = errno;
        char msg[1024];
        snprintf(msg, sizeof msg, "cannot write '%s' in folder '%s': %s", name, dir, strerror(e));
        od_outfile_abort(o);
        OD_ERROR(msg, OD_EIO);
    }
    return OD_OK;
}

int od_outfile_commit(od_outfile *o)
{
    int bad = o->f ? ferror(o->f) : 1;
    if (o->f && fclose(o->f) != 0) bad = 1;
    o->f = NULL;
    if (!bad && rename(o->tmp, o->final) != 0) bad = 1;
    if (bad) {
        char msg[1024];
        snprintf(msg, sizeof msg, "failed to write '%s': %s", o->final ? o->final : "?",
                 strerror(errno));
        od_outfile_abort(o);
        OD_ERROR(msg, OD_EIO);
    }
    free(o->tmp);
    free(o->final);
    o->tmp = o->final = NULL;
    return OD_OK;
}

void od_outfile_abort(od_outfile *o)
{
    if (!o) return;
    if (o->f) fclose(o->f);
    if (o->tmp) remove(o->tmp);
    free(o->tmp);
    free(o->final);
    memset(o, 0, sizeof *o);
}
