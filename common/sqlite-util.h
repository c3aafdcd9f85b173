/* SPDX-License-Identifier: MIT */
#pragma once

#include <sqlite3.h>

/*
 * The one translation of SQLite result codes to negative errno values (0 for OK, ROW and DONE).
 * For CANTOPEN and IOERR the operating system's error behind it is returned where db knows it
 * ("No such file", "Permission denied"); db may be NULL.
 */
int sqlite_to_errno(sqlite3 *db, int rc);
