/* SPDX-License-Identifier: MIT */
#include "csi/csi-probe.h"
#include "fuse/fuse-probe.h"
#include "metrics/metrics-probe.h"
#include "probe.h"
#include "ufs/ufs-probe.h"

const ProbeOps *const probe_registry[] = {
        &fuse_probe_ops,
        &csi_probe_ops,
        &metrics_probe_ops,
        &ufs_probe_ops,
        NULL,
};

const ProbeOps *probe_ops_find(const char *name) {
        for (size_t i = 0; probe_registry[i]; i++)
                if (streq(probe_registry[i]->name, name))
                        return probe_registry[i];
        return NULL;
}
