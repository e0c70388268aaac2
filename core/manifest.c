/* optdyn core — manifest.json through cJSON (see output.h). */
#include "core/output.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <omp.h>

#include "core/status.h"

struct od_manifest {
    cJSON *root;
    cJSON *params, *verdicts, *files, *notes;
};

od_manifest *od_manifest_alloc(const char *command)
{
    od_manifest *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->root = cJSON_CreateObject();
    if (!m->root) {
        free(m);
        return NULL;
    }
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(m->root, "program", "optdyn");
    cJSON_AddStringToObject(m->root, "version", od_version());
    cJSON_AddStringToObject(m->root, "command", command ? command : "");
    cJSON_AddStringToObject(m->root, "started", when);
    cJSON_AddNumberToObject(m->root, "host_threads", omp_get_num_procs());
    m->params = cJSON_AddObjectToObject(m->root, "parameters");
    m->verdicts = cJSON_AddArrayToObject(m->root, "verdicts");
    m->files = cJSON_AddArrayToObject(m->root, "files");
    m->notes = cJSON_AddArrayToObject(m->root, "notes");
    if (!m->params || !m->verdicts || !m->files || !m->notes) {
        od_manifest_free(m);
        return NULL;
    }
    return m;
}

void od_manifest_free(od_manifest *m)
{
    if (!m) return;
    cJSON_Delete(m->root);
    free(m);
}

/* Replaces key in obj with item (cJSON keeps duplicates otherwise). */
static int put(cJSON *obj, const char *key, cJSON *item)
{
    if (!item) OD_ERROR("out of memory", OD_ENOMEM);
    if (cJSON_HasObjectItem(obj, key)) cJSON_ReplaceItemInObject(obj, key, item);
    else cJSON_AddItemToObject(obj, key, item);
    return OD_OK;
}

int od_manifest_set_num(od_manifest *m, const char *key, double v) { return put(m->root, key, cJSON_CreateNumber(v)); }
int od_manifest_set_str(od_manifest *m, const char *key, const char *v) { return put(m->root, key, cJSON_CreateString(v)); }
int od_manifest_set_bool(od_manifest *m, const char *key, int v) { return put(m->root, key, cJSON_CreateBool(v)); }
int od_manifest_param_num(od_manifest *m, const char *key, double v) { return put(m->params, key, cJSON_CreateNumber(v)); }
int od_manifest_param_str(od_manifest *m, const char *key, const char *v) { return put(m->params, key, cJSON_CreateString(v)); }

int od_manifest_verdict(od_manifest *m, const char *name, double measured, double predicted,
                        double tolerance, const char *relation, int pass)
{
    cJSON *v = cJSON_CreateObject();
    if (!v) OD_ERROR("out of memory", OD_ENOMEM);
    cJSON_AddStringToObject(v, "name", name);
    cJSON_AddNumberToObject(v, "measured", measured);
    cJSON_AddNumberToObject(v, "predicted", predicted);
    cJSON_AddNumberToObject(v, "tolerance", tolerance);
    cJSON_AddStringToObject(v, "relation", relation);
    cJSON_AddStringToObject(v, "verdict", pass ? "PASS" : "FAIL");
    cJSON_AddItemToArray(m->verdicts, v);
    return OD_OK;
}

int od_manifest_file(od_manifest *m, const char *name)
{
    cJSON_AddItemToArray(m->files, cJSON_CreateString(name));
    return OD_OK;
}

int od_manifest_note(od_manifest *m, const char *text)
{
    cJSON_AddItemToArray(m->notes, cJSON_CreateString(text));
    return OD_OK;
}

void *od_manifest_json(od_manifest *m) { return m->root; }

int od_manifest_write(const od_manifest *m, const char *dir)
{
    char *text = cJSON_Print(m->root);
    if (!text) OD_ERROR("out of memory printing manifest.json", OD_ENOMEM);
    od_outfile o;
    int status = od_outfile_open(&o, dir, "manifest.json");
    if (status == OD_OK) {
        fputs(text, o.f);
        fputc('\n', o.f);
        status = od_outfile_commit(&o);
    }
    cJSON_free(text);
    return status;
}
