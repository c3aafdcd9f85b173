/* SPDX-License-Identifier: MIT */
#include <strings.h>

#include "macros.h"
#include "status.h"
#include "vigil.pb-c.h"

static const char *const names[_VIGIL_STATUS_MAX] = {
        [VIGIL_OK] = "OK",
        [VIGIL_WARN] = "WARN",
        [VIGIL_CRIT] = "CRIT",
        [VIGIL_UNKNOWN] = "UNKNOWN",
};

const char *vigil_status_to_string(VigilStatus s) {
        if (s < 0 || s >= _VIGIL_STATUS_MAX)
                return NULL;
        return names[s];
}

VigilStatus vigil_status_from_string(const char *s) {
        for (int i = 0; s && i < _VIGIL_STATUS_MAX; i++)
                if (strcasecmp(s, names[i]) == 0)
                        return i;
        return _VIGIL_STATUS_INVALID;
}

int vigil_status_severity(VigilStatus s) {
        static const int rank[_VIGIL_STATUS_MAX] = {
                [VIGIL_OK] = 0, [VIGIL_WARN] = 1, [VIGIL_UNKNOWN] = 2, [VIGIL_CRIT] = 3};
        return s >= 0 && s < _VIGIL_STATUS_MAX ? rank[s] : rank[VIGIL_UNKNOWN];
}

VigilStatus vigil_status_worst(VigilStatus a, VigilStatus b) {
        return vigil_status_severity(a) >= vigil_status_severity(b) ? a : b;
}

int vigil_status_to_proto(VigilStatus s) {
        switch (s) {
        case VIGIL_OK:
                return VIGIL__STATUS__STATUS_OK;
        case VIGIL_WARN:
                return VIGIL__STATUS__STATUS_WARN;
        case VIGIL_CRIT:
                return VIGIL__STATUS__STATUS_CRIT;
        default:
                return VIGIL__STATUS__STATUS_UNKNOWN;
        }
}

VigilStatus vigil_status_from_proto(int v) {
        switch (v) {
        case VIGIL__STATUS__STATUS_OK:
                return VIGIL_OK;
        case VIGIL__STATUS__STATUS_WARN:
                return VIGIL_WARN;
        case VIGIL__STATUS__STATUS_CRIT:
                return VIGIL_CRIT;
        default:
                return VIGIL_UNKNOWN;
        }
}
