/* SPDX-License-Identifier: MIT */
#include <systemd/sd-journal.h>

#include "log-journal.h"
#include "log-source.h"

typedef struct LogJournalSource {
        LogSource source;
        char *unit;
        char *dir; /* NULL: the system journal */
        sd_journal *journal;
        int fd; /* sd_journal_get_fd(), owned by journal */
        bool start_at_head; /* without a cursor: at the head (else the tail) */
        bool entry_pending; /* the current entry is not read yet (the saved one was vacuumed) */
        char *cursor; /* of the last entry read or passed over; NULL before any */
} LogJournalSource;

static LogJournalSource *JOURNAL(LogSource *s) {
        return (LogJournalSource *)s;
}

static Vigil__LogPosition *position_free(Vigil__LogPosition *p) {
        vigil__log_position__free_unpacked(p, NULL);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Vigil__LogPosition *, position_free);

/* What journalctl -u adds: the unit's own messages, its coredumps, PID 1's messages about it, and
 * those of privileged daemons about it. */
static int add_unit_matches(sd_journal *j, const char *unit) {
        _cleanup_(freep) char *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL;
        int r;

        if (asprintf(&m1, "_SYSTEMD_UNIT=%s", unit) < 0 || asprintf(&m2, "COREDUMP_UNIT=%s", unit) < 0 ||
                asprintf(&m3, "UNIT=%s", unit) < 0 || asprintf(&m4, "OBJECT_SYSTEMD_UNIT=%s", unit) < 0)
                return -ENOMEM;
        (void)((r = sd_journal_add_match(j, m1, 0)) < 0 || (r = sd_journal_add_disjunction(j)) < 0 ||
                (r = sd_journal_add_match(j, "MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1", 0)) < 0 ||
                (r = sd_journal_add_match(j, "_UID=0", 0)) < 0 || (r = sd_journal_add_match(j, m2, 0)) < 0 ||
                (r = sd_journal_add_disjunction(j)) < 0 || (r = sd_journal_add_match(j, "_PID=1", 0)) < 0 ||
                (r = sd_journal_add_match(j, m3, 0)) < 0 || (r = sd_journal_add_disjunction(j)) < 0 ||
                (r = sd_journal_add_match(j, "_UID=0", 0)) < 0 || (r = sd_journal_add_match(j, m4, 0)) < 0);
        return r < 0 ? r : 0;
}

static int remember_cursor(LogJournalSource *js) {
        char *c;
        int r;

        r = sd_journal_get_cursor(js->journal, &c);
        if (r < 0)
                return r;
        free(js->cursor);
        js->cursor = c;
        return 0;
}

/* Places the journal so that the next sd_journal_next() (or the pending entry) is the first entry
 * not read yet. */
static int seek_start(LogJournalSource *js) {
        sd_journal *j = js->journal;
        int r;

        if (js->cursor) {
                r = sd_journal_seek_cursor(j, js->cursor);
                if (r >= 0) {
                        r = sd_journal_next(j);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                r = sd_journal_test_cursor(j, js->cursor);
                                if (r < 0)
                                        return r;
                                if (r > 0)
                                        return 0; /* on the entry read last: the next one is new */
                                /* The entry read last is gone, vacuumed with its file: the one
                                 * sd-journal found is the first after it, not read yet. */
                                js->entry_pending = true;
                        }
                        /* Else nothing is after the cursor's place: neither its entry (gone too)
                         * nor newer ones, which will come after that place. Either way the file
                         * that held it went before we read it to its end: what it had after our
                         * entry is lost, which the batch says. */
                        js->source.files_lost++;
                        return 0;
                }
                /* A cursor sd-journal cannot parse (damaged state): all that is left is the head. */
                js->cursor = mfree(js->cursor);
                return sd_journal_seek_head(j);
        }

        if (js->start_at_head)
                return sd_journal_seek_head(j);

        r = sd_journal_seek_tail(j);
        if (r < 0)
                return r;
        r = sd_journal_previous(j);
        if (r < 0)
                return r;
        if (r > 0)
                /* On the last entry there is: remember it, so that a restart before anything new
                 * came goes on from here rather than from the head. */
                return remember_cursor(js);
        /* No entry of the unit yet: everything that comes is new. (After seek_tail on an empty
         * journal sd-journal would skip the first entry to arrive.) */
        return sd_journal_seek_head(j);
}

static int journal_open(LogJournalSource *js) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        int r, fd;

        if (js->dir)
                r = sd_journal_open_directory(&j, js->dir, 0);
        else
                r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return r;
        /* The inotify watches start with the fd: made now, no journal file created from here on is
         * missed. */
        fd = sd_journal_get_fd(j);
        if (fd < 0)
                return fd;
        r = add_unit_matches(j, js->unit);
        if (r < 0)
                return r;

        js->journal = TAKE_PTR(j);
        js->fd = fd;
        r = seek_start(js);
        if (r < 0) {
                sd_journal_close(TAKE_PTR(js->journal));
                js->fd = -EBADF;
                return r;
        }
        return 0;
}

static int open_or_note(LogJournalSource *js) {
        int r;

        r = journal_open(js);
        if (r < 0) {
                if (js->dir)
                        log_source_set_error(&js->source, r, "open journal directory %s", js->dir);
                else
                        log_source_set_error(&js->source, r, "open the system journal");
                /* Whatever appears once it can be opened is newer than our start. */
                js->start_at_head = true;
                return r;
        }
        return 0;
}

static LogLevel level_from_priority(sd_journal *j) {
        const void *d;
        size_t l;

        if (sd_journal_get_data(j, "PRIORITY", &d, &l) < 0 || l != strlen("PRIORITY=") + 1)
                return 0;
        switch (((const char *)d)[l - 1]) {
        case '0' ... '2':
                return VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL;
        case '3':
                return VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR;
        case '4':
                return VIGIL__LOG_LEVEL__LOG_LEVEL_WARN;
        case '5' ... '6':
                return VIGIL__LOG_LEVEL__LOG_LEVEL_INFO;
        case '7':
                return VIGIL__LOG_LEVEL__LOG_LEVEL_DEBUG;
        default:
                return 0;
        }
}

/* Feeds the current entry to the scanner as one complete record; its size goes off *budget. */
static int feed_entry(LogJournalSource *js, size_t *budget) {
        LogSource *s = &js->source;
        sd_journal *j = js->journal;
        const void *d;
        const char *msg;
        size_t len;
        uint64_t usec;
        int r;

        r = sd_journal_get_data(j, "MESSAGE", &d, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                /* No MESSAGE, or one that cannot be read (damaged, compressed in a way this libsystemd
                 * does not know): there is no text to look at, and reading on is all we can do. */
                return 0;
        msg = (const char *)d + strlen("MESSAGE=");
        len -= strlen("MESSAGE=");
        while (len > 0 && msg[len - 1] == '\n')
                len--;

        if (sd_journal_get_realtime_usec(j, &usec) < 0)
                usec = 0;
        /* The entry is one complete record: a text with no level of its own takes the entry's
         * PRIORITY, one without a time the entry's; its event never takes the next entry's lines. */
        log_scanner_feed_record(s->scanner, msg, len, level_from_priority(j), (int64_t)(usec / 1000));
        *budget -= MIN(*budget, len + 1);
        return 0;
}

static int journal_read(LogSource *s, size_t *budget) {
        LogJournalSource *js = JOURNAL(s);
        int r;

        if (!js->journal) {
                r = open_or_note(js);
                if (r < 0)
                        return r;
        }

        /* New journal files join only through processing; the event loop may not have done it. */
        r = sd_journal_process(js->journal);
        if (r < 0)
                goto fail;

        while (*budget > 0) {
                if (js->entry_pending) {
                        js->entry_pending = false;
                        r = 1;
                } else
                        r = sd_journal_next(js->journal);
                if (r < 0)
                        goto fail;
                if (r == 0) {
                        log_source_set_error(s, 0, NULL);
                        return 0;
                }
                r = feed_entry(js, budget);
                if (r < 0) {
                        js->entry_pending = true; /* the next read tries it again */
                        goto fail;
                }
                r = remember_cursor(js);
                if (r < 0)
                        goto fail;
        }
        log_source_set_error(s, 0, NULL);
        return 1;

fail:
        log_source_set_error(s, r, "read the journal of %s", js->unit);
        return r;
}

static int journal_position(LogSource *s, Vigil__LogPosition **ret) {
        LogJournalSource *js = JOURNAL(s);
        _cleanup_(position_freep) Vigil__LogPosition *p = NULL;
        int r;

        r = log_source_new_position(s, &p);
        if (r < 0)
                return r;
        if (js->cursor) {
                char *c = strdup(js->cursor);
                if (!c)
                        return -ENOMEM;
                if (p->cursor != protobuf_c_empty_string)
                        free(p->cursor);
                p->cursor = c;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

static void journal_done(LogSource *s) {
        LogJournalSource *js = JOURNAL(s);

        sd_journal_close(js->journal);
        free(js->unit);
        free(js->dir);
        free(js->cursor);
}

static const LogSourceOps journal_ops = {
        .kind = "journal",
        .read = journal_read,
        .position = journal_position,
        .done = journal_done,
};

int log_journal_source_new(const char *unit, const char *journal_dir, const LogSourceSettings *set,
        LogState *st, LogSource **ret) {
        _cleanup_(log_source_freep) LogSource *s = NULL;
        _cleanup_(position_freep) Vigil__LogPosition *p = NULL;
        _cleanup_(freep) char *name = NULL;
        LogSourceSettings copy = *set;
        LogJournalSource *js;
        int r;

        if (isempty(unit))
                return -EINVAL;
        if (asprintf(&name, "journal:%s", unit) < 0)
                return -ENOMEM;

        js = calloc(1, sizeof(*js));
        if (!js)
                return -ENOMEM;
        js->fd = -EBADF;
        s = &js->source;
        /* Entries are text; none is a CRI or docker record, however its first line looks. */
        copy.scan.format = LOG_FORMAT_PLAIN;
        r = log_source_init(s, &journal_ops, name, &copy);
        if (r < 0)
                return r;
        js->unit = strdup(unit);
        if (!js->unit)
                return -ENOMEM;
        if (journal_dir) {
                js->dir = strdup(journal_dir);
                if (!js->dir)
                        return -ENOMEM;
        }

        r = log_state_get_position(st, s->name, &p);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0) {
                r = log_source_restore(s, p);
                if (r < 0)
                        return r;
                if (!isempty(p->cursor)) {
                        js->cursor = strdup(p->cursor);
                        if (!js->cursor)
                                return -ENOMEM;
                }
                /* Saved without a cursor: it had seen no entry, so every entry there is now came
                 * since. */
                js->start_at_head = true;
        } else
                js->start_at_head = set->from_head;

        /* A journal that cannot be opened yet is the source's state (shown by its check), not a
         * failure to make it: reads try again. */
        (void)open_or_note(js);

        *ret = TAKE_PTR(s);
        return 0;
}

int log_journal_source_fd(LogSource *s) {
        if (s->ops != &journal_ops)
                return -EINVAL;
        return JOURNAL(s)->fd;
}

int log_journal_source_process(LogSource *s) {
        LogJournalSource *js = JOURNAL(s);

        if (s->ops != &journal_ops)
                return -EINVAL;
        if (!js->journal)
                return 0;
        return sd_journal_process(js->journal);
}
