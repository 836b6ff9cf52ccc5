/* io.c: buffered standard output, standard input and files: the io operations' default behaviours
 * (LANGUAGE.md §14.2, vm/effects_default.py, vm/world.py; DESIGN.md §5.4).
 *
 * Standard output is one buffer, flushed at exit, before reading input, before anything goes to
 * standard error (reports, io:print-err) and before time:sleep. Input is read from fd 0 in slices
 * of 100 ms so that an interrupt ends the wait; lines must be valid UTF-8 (else io-error).
 *     (io:read-file "missing.txt")
 *       -> io-error "`io:read-file`: cannot read \"missing.txt\": No such file or directory"
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl_ctl.h"

/* ---- UTF-8 ----------------------------------------------------------------------------------- */

bool fl_utf8_valid(const char *bytes, int64_t n) {
    const unsigned char *s = (const unsigned char *)bytes;
    int64_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int64_t len;
        unsigned lo = 0x80, hi = 0xBF; /* range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;      /* no overlongs */
            else if (c == 0xED) hi = 0x9F; /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            else if (c == 0xF4) hi = 0x8F; /* nothing above U+10FFFF */
        } else return false;
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return false;
        for (int64_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return false;
        i += len;
    }
    return true;
}

/* ---- standard output ------------------------------------------------------------------------- */

#define OUT_CAP (1 << 16)
static char out_buf[OUT_CAP];
static int64_t out_len;
static bool out_any;    /* anything written at all */
static char out_last;   /* the last byte written */
static bool out_broken; /* a write failed: discard the rest */

static void write_fd(int fd, const char *bytes, int64_t n) {
    while (n > 0) {
        ssize_t w = write(fd, bytes, (size_t)n);
        if (w < 0) {
            if (errno == EINTR) continue;
            /* a closed pipe ends the program with status 0, as BrokenPipeError does in the VM's
             * driver (`fluentai run prog.fl | head -1` must not loop on); but a Ctrl-C that came
             * while the write waited on the pipe wins, as in the VM, whose write it interrupts:
             * the program unwinds at its next safepoint (finally clauses, status 130) */
            if (fd == 1 && errno == EPIPE && !fl_ctl_interrupt_requested()) _exit(0);
            if (fd == 1) out_broken = true;
            return;
        }
        bytes += w;
        n -= w;
    }
}

/* Set while the program thread writes the buffer out, so that fl_out_rescue leaves it alone. */
static volatile sig_atomic_t out_flushing;

void fl_out_flush(void) {
    if (out_len > 0 && !out_broken) {
        out_flushing = 1;
        atomic_signal_fence(memory_order_seq_cst);
        write_fd(1, out_buf, out_len);
    }
    out_len = 0;
    atomic_signal_fence(memory_order_seq_cst);
    out_flushing = 0;
}

void fl_out_write(const char *bytes, int64_t n) {
    if (n <= 0) return;
    out_any = true;
    out_last = bytes[n - 1];
    if (out_len + n > OUT_CAP) {
        fl_out_flush();
        if (n >= OUT_CAP) {
            if (!out_broken) write_fd(1, bytes, n);
            return;
        }
    }
    memcpy(out_buf + out_len, bytes, (size_t)n);
    /* the bytes are in place before the length counts them (fl_out_rescue reads it) */
    atomic_thread_fence(memory_order_release);
    out_len += n;
}

/* A second Ctrl-C ends the process at once (main.c, bigstack.py), while the program thread may
 * still run: what the program wrote before it is written out first, as far as standard output
 * takes it without waiting (a pipe nobody reads must not hold the exit up). Async-signal-safe
 * (poll and write only); the process ends right after. */
void fl_out_rescue(void) {
    if (out_flushing || out_broken) return; /* the program thread is writing it out itself */
    int64_t n = out_len;
    atomic_thread_fence(memory_order_acquire);
    const char *bytes = out_buf;
    while (n > 0) {
        struct pollfd p = {.fd = 1, .events = POLLOUT};
        if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT)) break;
        /* at most PIPE_BUF bytes: a pipe that polls writable takes them without blocking */
        ssize_t w = write(1, bytes, (size_t)(n < PIPE_BUF ? n : PIPE_BUF));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        bytes += w;
        n -= w;
    }
    out_len = 0; /* written once, however many tiers ask */
}

bool fl_out_at_line_start(void) { return !out_any || out_last == '\n'; }

void fl_ctl_write_stderr(const char *bytes, int64_t n) {
    fl_out_flush();
    write_fd(2, bytes, n);
}

/* The display forms of the arguments joined by single spaces. */
static void join_display(fl_buf *b, int64_t argc, const fl_value *argv) {
    for (int64_t i = 0; i < argc; i++) {
        if (i > 0) fl_buf_putc(b, ' ');
        fl_display_to(b, argv[i]);
    }
}

fl_value fl_e_ioZ3a_print(int64_t argc, const fl_value *argv) {
    fl_buf b;
    fl_buf_init(&b);
    join_display(&b, argc, argv);
    fl_buf_putc(&b, '\n');
    fl_out_write(b.data, b.len);
    return FL_NIL;
}

fl_value fl_e_ioZ3a_write(int64_t argc, const fl_value *argv) {
    fl_buf b;
    fl_buf_init(&b);
    join_display(&b, argc, argv);
    fl_out_write(b.data, b.len);
    return FL_NIL;
}

/* `--print-values` and `eval` (LANGUAGE.md §16): a top-level value in written form on a line of
 * its own, nothing for nil; what vm/machine.py's TOP_VALUE writes. */
fl_value fl_print_top_value(fl_value v) {
    if (v == FL_NIL) return FL_NIL;
    fl_buf b;
    fl_buf_init(&b);
    if (!fl_out_at_line_start()) fl_buf_putc(&b, '\n');
    fl_written_to(&b, v);
    fl_buf_putc(&b, '\n');
    fl_out_write(b.data, b.len);
    return FL_NIL;
}

fl_value fl_e_ioZ3a_print_err(int64_t argc, const fl_value *argv) {
    fl_buf b;
    fl_buf_init(&b);
    join_display(&b, argc, argv);
    fl_buf_putc(&b, '\n');
    fl_ctl_write_stderr(b.data, b.len);
    return FL_NIL;
}

/* ---- standard input -------------------------------------------------------------------------- */

static struct {
    char *data; /* malloc'd bytes: [start, len) not yet returned */
    int64_t start, len, cap, scanned;
    bool eof;
} in;

void fl_rt_set_read_line_hook(fl_value (*hook)(void)) { fl_ctl.read_line_hook = hook; }

/* Read more of fd 0 into `in`: 1 when something came or input ended, 0 on timeout; -1 when an
 * interrupt is pending. */
static int fill_input(void) {
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int r = poll(&p, 1, 100);
    if (fl_ctl_interrupt_requested()) return -1;
    if (r < 0) return errno == EINTR ? 0 : (in.eof = true, 1);
    if (r == 0) return 0;
    if (p.revents & POLLNVAL) return in.eof = true, 1;
    if (in.start > 0) { /* compact */
        memmove(in.data, in.data + in.start, (size_t)(in.len - in.start));
        in.len -= in.start;
        in.scanned -= in.start;
        in.start = 0;
    }
    if (in.cap - in.len < 65536) {
        int64_t cap = in.cap * 2 > in.len + 65536 ? in.cap * 2 : in.len + 65536;
        char *grown = realloc(in.data, (size_t)cap);
        if (grown == NULL) return in.eof = true, 1;
        in.data = grown;
        in.cap = cap;
    }
    ssize_t n = read(0, in.data + in.len, (size_t)(in.cap - in.len));
    if (n < 0) return (errno == EINTR || errno == EAGAIN) ? 0 : (in.eof = true, 1);
    if (n == 0) in.eof = true;
    in.len += n;
    return 1;
}

fl_value fl_e_ioZ3a_read_line(int64_t argc, const fl_value *argv) {
    (void)argc; (void)argv;
    fl_out_flush();
    if (fl_ctl.read_line_hook != NULL) return fl_ctl.read_line_hook();
    int64_t end; /* one past the line's last byte, its newline included */
    for (;;) {
        size_t unscanned = (size_t)(in.len - in.scanned);
        const char *nl = in.data == NULL ? NULL : memchr(in.data + in.scanned, '\n', unscanned);
        if (nl != NULL) {
            end = nl - in.data + 1;
            break;
        }
        in.scanned = in.len;
        if (in.eof) {
            end = in.len;
            break;
        }
        if (fill_input() < 0) return fl_ctl_take_interrupt();
    }
    int64_t n = end - in.start;
    if (n == 0) return FL_NIL; /* end of input */
    const char *line = in.data + in.start;
    in.start = in.scanned = end;
    if (line[n - 1] == '\n') n -= (n >= 2 && line[n - 2] == '\r') ? 2 : 1;
    if (!fl_utf8_valid(line, n))
        return fl_raise("io-error", "`io:read-line`: standard input is not valid UTF-8");
    return fl_string_from_utf8(line, n);
}

/* ---- files ----------------------------------------------------------------------------------- */

static fl_value io_error(const char *name, const char *action, fl_value path, const char *reason) {
    const char *written = fl_ctl_written(path);
    return fl_raisef("io-error", "`%s`: cannot %s %s: %s", name, action, written, reason);
}

/* The path's bytes, or NULL with the error raised in *err (Python: a NUL is a ValueError). */
static const char *path_bytes(const char *name, const char *action, fl_value path, fl_value *err) {
    if (!fl_is_string(path)) {
        *err = fl_raise_type(name, "a String path", path);
        return NULL;
    }
    const char *bytes = fl_string_bytes(path);
    if ((int64_t)strlen(bytes) != fl_string_nbytes(path)) {
        *err = io_error(name, action, path, "embedded null byte");
        return NULL;
    }
    return bytes;
}

fl_value fl_e_ioZ3a_read_file(int64_t argc, const fl_value *argv) {
    (void)argc;
    const char *name = "io:read-file";
    fl_value err = 0;
    const char *path = path_bytes(name, "read", argv[0], &err);
    if (path == NULL) return err;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error(name, "read", argv[0], strerror(errno));
    char *data = NULL;
    int64_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 65536) {
            cap = cap * 2 > len + 65536 ? cap * 2 : len + 65536;
            char *grown = realloc(data, (size_t)cap);
            if (grown == NULL) {
                free(data);
                close(fd);
                return fl_raise("out-of-memory", "out of memory");
            }
            data = grown;
        }
        ssize_t n = read(fd, data + len, (size_t)(cap - len));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            free(data);
            close(fd);
            return io_error(name, "read", argv[0], strerror(e));
        }
        if (n == 0) break;
        len += n;
    }
    close(fd);
    fl_value result;
    if (fl_utf8_valid(data, len)) result = fl_string_from_utf8(data, len);
    else
        result = fl_raisef("io-error", "`%s`: %s is not valid UTF-8", name, fl_ctl_written(argv[0]));
    free(data);
    return result;
}

static fl_value write_file(const char *name, int flags, const fl_value *argv) {
    fl_value err = 0;
    const char *path = path_bytes(name, "write", argv[0], &err);
    if (path == NULL) return err;
    if (!fl_is_string(argv[1])) return fl_raise_type(name, "a String", argv[1]);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0666);
    if (fd < 0) return io_error(name, "write", argv[0], strerror(errno));
    const char *bytes = fl_string_bytes(argv[1]);
    int64_t n = fl_string_nbytes(argv[1]);
    while (n > 0) {
        ssize_t w = write(fd, bytes, (size_t)n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            return io_error(name, "write", argv[0], strerror(e));
        }
        bytes += w;
        n -= w;
    }
    if (close(fd) != 0) return io_error(name, "write", argv[0], strerror(errno));
    return FL_NIL;
}

fl_value fl_e_ioZ3a_write_file(int64_t argc, const fl_value *argv) {
    (void)argc;
    return write_file("io:write-file", O_TRUNC, argv);
}

fl_value fl_e_ioZ3a_append_file(int64_t argc, const fl_value *argv) {
    (void)argc;
    return write_file("io:append-file", O_APPEND, argv);
}

fl_value fl_e_ioZ3a_file_existsZ3f_(int64_t argc, const fl_value *argv) {
    (void)argc;
    const char *name = "io:file-exists?";
    fl_value err = 0;
    const char *path = path_bytes(name, "check", argv[0], &err);
    if (path == NULL) return err;
    struct stat st;
    if (stat(path, &st) == 0) return FL_TRUE;
    if (errno == ENOENT || errno == ENOTDIR) return FL_FALSE;
    return io_error(name, "check", argv[0], strerror(errno));
}
