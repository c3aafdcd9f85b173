/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The journald source (log_journal_source_new() in log-source.h) reads the entries of one unit,
 * the ones `journalctl -u UNIT` shows: the unit's own messages, PID 1's about it, and its
 * coredumps. An entry's MESSAGE is one complete record, however many lines it has (a Java stack
 * trace logged in one write): its event never takes lines of the next entry as context. The text's
 * own level wins; a text without one takes the entry's PRIORITY (0-2 FATAL, 3 ERROR, 4 WARN, 5-6
 * INFO, 7 DEBUG), and a text without a time the entry's __REALTIME_TIMESTAMP.
 *
 * The position is the cursor of the last entry read. After a restart the source goes on after
 * it; when that entry has been vacuumed meanwhile it goes on with the oldest entry after it, which
 * is the head of what is left; what went with the vacuumed file is lost, and the next batch
 * counts that file in files_lost. A source without a saved position starts at the end of the journal,
 * or at its beginning when from_head is set or the journal was empty or missing at first.
 *
 * A journal that cannot be opened (a journal_dir that does not exist) does not fail creation:
 * the source keeps the error (s->error, s->error_what) and tries again at each read.
 */

#include "log-source.h"

/*
 * The journal's inotify fd, for the event loop to wake on new entries (EPOLLIN; call
 * log_journal_source_process() then read). -EBADF while the journal is not open: the fd can
 * appear after a later read opened it, so a loop without one asks again after reads. The fd
 * stays owned by the source and changes only from -EBADF to valid. -EINVAL when s is not a
 * journal source.
 */
int log_journal_source_fd(LogSource *s);

/*
 * Processes the fd's events (new or removed journal files, appended entries). Returns
 * SD_JOURNAL_NOP, SD_JOURNAL_APPEND or SD_JOURNAL_INVALIDATE (>= 0) or -errno; 0 while the
 * journal is not open. Reads process too, so a loop that only polls on a timer misses nothing.
 */
int log_journal_source_process(LogSource *s);
