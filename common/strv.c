/* SPDX-License-Identifier: MIT */
#include "macros.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

int strv_extend(char ***l, const char *value) {
        size_t n = strv_length(*l);
        _cleanup_(freep) char *v = strdup(value);
        if (!v)
                return -ENOMEM;
        char **nl = realloc(*l, sizeof(char *) * (n + 2));
        if (!nl)
                return -ENOMEM;
        nl[n] = TAKE_PTR(v);
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **v = calloc(n + 1, sizeof(char *));
        if (!v)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(v[i] = strdup(l[i])))
                        return strv_free(v);
        return v;
}
