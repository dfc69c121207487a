/*
 * expert-worker - runs one expert for the broker.
 *
 * Started by the broker with a fixed set of descriptors (proto/wire.h), an
 * empty environment and argv[1] = the expert's name for messages.  In order:
 * confine, say hello, wait (a pooled worker waits here while the broker
 * loads the capture), take the heap, the frame store and the address-space
 * limit from the hand-over (Register), map them, load the expert, call Register, then whatever
 * the broker asks (Run, or quit), and exit.
 *
 * Everything after dlopen is untrusted: the expert shares this process.  So
 * the worker decides nothing the broker relies on; it only reports.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"
#include "confine.h"
#include "framestore.h"
#include "heapseg.h"
#include "injection.h"
#include "netmon.h"
#include "nmapi_internal.h"
#include "wire.h"

struct expert {
    void *module;
    PEXPERTREGISTERPROC register_proc;
    PEXPERTCONFIGPROC configure_proc;
    PEXPERTRUNPROC run_proc;
};

/* Before the control socket works there is nobody to tell but stderr,
 * which the broker captures. */
static void die_setup(const char *what)
{
    fprintf(stderr, "expert-worker: %s\n", what);
    _exit(ES_WORKER_EXIT_SETUP);
}

static void send_or_die(const Es__WorkerMessage *msg)
{
    if (es_channel_send(ES_FD_CONTROL, msg) != 0)
        _exit(ES_WORKER_EXIT_BROKER_GONE);
}

static void send_failure(uint32_t nmerr, const char *reason)
{
    Es__Failure failure = ES__FAILURE__INIT;
    failure.nmerr = nmerr;
    failure.reason.data = (uint8_t *)reason;
    failure.reason.len = strnlen(reason, 1024);
    Es__WorkerMessage msg = ES__WORKER_MESSAGE__INIT;
    msg.body_case = ES__WORKER_MESSAGE__BODY_FAILURE;
    msg.failure = &failure;
    send_or_die(&msg);
}

static void *map_segment(int fd, int prot, size_t *size_out)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0)
        return NULL;
    void *p = mmap(NULL, (size_t)st.st_size, prot, MAP_SHARED, fd, 0);
    /* Kernels before 6.7 refuse shared mappings of a write-sealed memfd even
     * read-only; a private read-only mapping sees the same sealed pages. */
    if (p == MAP_FAILED && errno == EPERM && !(prot & PROT_WRITE))
        p = mmap(NULL, (size_t)st.st_size, prot, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return NULL;
    *size_out = (size_t)st.st_size;
    return p;
}

/* The heap and the frame store come with the hand-over (Register): a
 * pooled worker is started while the broker still builds the store, and the
 * broker creates each heap only for the expert it is handed to.  `expert-broker
 * list` sends no store.  Mapping them is all the waiting stage's seccomp
 * table needs (mmap without PROT_EXEC, fstat, close). */
static void attach_segments(int heap_fd, int frames_fd)
{
    size_t heap_size = 0, store_size = 0;
    void *heap = map_segment(heap_fd, PROT_READ | PROT_WRITE, &heap_size);
    if (!heap)
        die_setup("cannot map the heap segment");
    /* Ask for 2 MiB pages where the kernel offers them for shared memory
     * (transparent_hugepage/shmem_enabled "advise", "within_size" or
     * "always"): a crashed worker's heap is then torn down and freed in a
     * few hundred page operations instead of one per 4 KiB, which is most of
     * the time from a crash to its outcome.  Refusal changes nothing. */
    (void)madvise(heap, heap_size, MADV_HUGEPAGE);
    const struct es_heap_control *control = heap;
    if (control->magic != ES_HEAP_MAGIC || control->version != ES_PROTOCOL_VERSION)
        die_setup("the heap segment is not the broker's");
    close(heap_fd);
    const void *store = NULL;
    if (frames_fd >= 0) {
        store = map_segment(frames_fd, PROT_READ, &store_size);
        if (!store || !es_store_header_valid(store, store_size))
            die_setup("cannot map the frame store");
        close(frames_fd);
    }
    if (!es_nmapi_attach(ES_FD_CONTROL, heap, heap_size, store, store_size))
        die_setup("the heap segment is too small");
}

static Es__Command *expect_command(void)
{
    Es__Command *cmd = es_channel_recv_command(ES_FD_CONTROL);
    if (!cmd)
        _exit(errno == 0 ? ES_WORKER_EXIT_BROKER_GONE : ES_WORKER_EXIT_PROTOCOL);
    return cmd;
}

/* dlopen through /proc/self/fd: the broker opened and checked the file, so
 * the worker loads exactly that file, not whatever the path names now. */
static void load_expert(struct expert *x)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", ES_FD_EXPERT);
    x->module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!x->module) {
        const char *why = dlerror();
        send_failure(NMERR_LOAD_EXPERT_FAILED, why ? why : "dlopen failed");
        _exit(ES_WORKER_EXIT_OK);
    }
    close(ES_FD_EXPERT);
    x->register_proc = (PEXPERTREGISTERPROC)dlsym(x->module, EXPERTENTRY_REGISTER);
    x->configure_proc = (PEXPERTCONFIGPROC)dlsym(x->module, EXPERTENTRY_CONFIGURE);
    x->run_proc = (PEXPERTRUNPROC)dlsym(x->module, EXPERTENTRY_RUN);
    if (!x->register_proc || !x->run_proc) {
        send_failure(NMERR_LOAD_EXPERT_FAILED,
                     !x->register_proc ? "no Register entry point" : "no Run entry point");
        _exit(ES_WORKER_EXIT_OK);
    }
}

static ProtobufCBinaryData fixed_text(const char *field, size_t size)
{
    ProtobufCBinaryData b = {strnlen(field, size), (uint8_t *)field};
    return b;
}

static void register_expert(const struct expert *x, const char *display_name)
{
    EXPERTENUMINFO info;
    memset(&info, 0, sizeof info);
    snprintf(info.szDllName, sizeof info.szDllName, "%s", display_name);
    info.hModule = x->module;
    info.pRegisterProc = x->register_proc;
    info.pConfigProc = x->configure_proc;
    info.pRunProc = x->run_proc;
    if (!x->register_proc(&info)) {
        send_failure(NMERR_EXPERT_REPORT_FAILED, "Register returned FALSE");
        _exit(ES_WORKER_EXIT_OK);
    }
    Es__Registered reg = ES__REGISTERED__INIT;
    reg.name = fixed_text(info.szName, sizeof info.szName);
    reg.vendor = fixed_text(info.szVendor, sizeof info.szVendor);
    reg.description = fixed_text(info.szDescription, sizeof info.szDescription);
    reg.version = info.Version;
    reg.flags = info.Flags;
    reg.has_configure = x->configure_proc != NULL;
    Es__WorkerMessage msg = ES__WORKER_MESSAGE__INIT;
    msg.body_case = ES__WORKER_MESSAGE__BODY_REGISTERED;
    msg.registered = &reg;
    send_or_die(&msg);
}

static void fill_startup_info(const Es__StartupInfo *in, EXPERTSTARTUPINFO *out)
{
    memset(out, 0, sizeof *out);
    /* One capture per run; GetCaptureTotalFrames and friends take it. */
    out->hCapture = es_nmapi_capture_handle();
    out->dwFrameNumber = INVALID_FRAME_NUMBER;
    if (!in)
        return;
    size_t len = in->capture_file.len < sizeof out->szCaptureFile - 1 ? in->capture_file.len
                                                                      : sizeof out->szCaptureFile - 1;
    if (len > 0)   /* configure without a capture sends no name at all */
        memcpy(out->szCaptureFile, in->capture_file.data, len);
    out->dwFrameNumber = in->startup_frame;
}

static void send_finished(Es__Entry entry, BOOL result, const PEXPERTCONFIG config)
{
    Es__Finished finished = ES__FINISHED__INIT;
    finished.entry = entry;
    finished.result = result != FALSE;
    if (config) {
        /* The expert's pointer: trust it only as far as the heap knows it
         * as a live block, and RawConfigLength only within that block. */
        size_t block = es_nmapi_block_size(config);
        size_t len = block >= sizeof(DWORD) && config->RawConfigLength <= block ? config->RawConfigLength : 0;
        if (len >= sizeof(DWORD) && len <= ES_MAX_CONFIG) {
            finished.has_config = true;
            finished.config.data = (uint8_t *)config;
            finished.config.len = len;
        }
    }
    Es__WorkerMessage msg = ES__WORKER_MESSAGE__INIT;
    msg.body_case = ES__WORKER_MESSAGE__BODY_FINISHED;
    msg.finished = &finished;
    send_or_die(&msg);
}

static PEXPERTCONFIG stored_config(const Es__Command *cmd)
{
    if (!cmd->has_config || cmd->config.len < sizeof(DWORD))
        return NULL;
    PEXPERTCONFIG config = es_nmapi_heap_copy(cmd->config.data, cmd->config.len);
    if (!config)
        die_setup("no room in the heap for the stored configuration");
    return config;
}

/* Configure runs headless: there is no window to parent a dialog to, so an
 * expert configures itself from the stored configuration and the startup
 * information, and leaves the result in *ppConfig for the broker to store. */
static void configure_expert(const struct expert *x, const Es__Command *cmd)
{
    EXPERTSTARTUPINFO startup;
    fill_startup_info(cmd->startup, &startup);
    DWORD flags = cmd->startup ? cmd->startup->startup_flags : 0;
    PEXPERTCONFIG config = stored_config(cmd);
    BOOL result = FALSE;
    if (x->configure_proc) {
        HEXPERTKEY key = es_nmapi_begin_call(&startup);
        result = x->configure_proc(key, &config, &startup, flags, NULL);
        es_nmapi_end_call();
    }
    send_finished(ES__ENTRY__ENTRY_CONFIGURE, result, result ? config : NULL);
}

static void run_expert(const struct expert *x, const Es__Command *cmd)
{
    EXPERTSTARTUPINFO startup;
    fill_startup_info(cmd->startup, &startup);
    DWORD flags = cmd->startup ? cmd->startup->startup_flags : 0;
    PEXPERTCONFIG config = stored_config(cmd);

    HEXPERTKEY key = es_nmapi_begin_call(&startup);
    BOOL result = x->run_proc(key, config, &startup, flags, NULL);
    es_nmapi_end_call();
    send_finished(ES__ENTRY__ENTRY_RUN, result, NULL);
}

/* The first message, sent by the worker's own code before the expert is
 * loaded: which layers are in place, and the seccomp listener for the
 * broker to hold. */
static void say_hello(const struct es_confinement *c)
{
    Es__Hello hello = ES__HELLO__INIT;
    hello.protocol_version = ES_PROTOCOL_VERSION;
    hello.layers = c->applied;
    if (c->report[0]) {
        hello.has_layer_report = true;
        hello.layer_report.data = (uint8_t *)c->report;
        hello.layer_report.len = strlen(c->report);
    }
    Es__WorkerMessage msg = ES__WORKER_MESSAGE__INIT;
    msg.body_case = ES__WORKER_MESSAGE__BODY_HELLO;
    msg.hello = &hello;
    if (es_channel_send_fd(ES_FD_CONTROL, &msg, c->listener_fd) != 0)
        _exit(ES_WORKER_EXIT_BROKER_GONE);
    /* The broker holds the listener now; ours would only keep it alive. */
    if (c->listener_fd >= 0)
        close(c->listener_fd);
}

static void say_loaded(void)
{
    Es__Loaded loaded = ES__LOADED__INIT;
    Es__WorkerMessage msg = ES__WORKER_MESSAGE__INIT;
    msg.body_case = ES__WORKER_MESSAGE__BODY_LOADED;
    msg.loaded = &loaded;
    send_or_die(&msg);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__has_feature)
/* In sanitizer builds, let the expert's own faults kill the worker with the
 * real signal instead of being turned into a sanitizer report and exit(1):
 * outcomes must not depend on how the host was built. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigill=0:handle_sigfpe=0:"
           "allow_user_segv_handler=1:detect_leaks=0";
}
#endif

int main(int argc, char **argv)
{
    struct es_worker_config cfg;
    if (es_worker_config_parse(argc, argv, &cfg) != 0)
        die_setup("bad command line (this program is started by expert-broker)");

    /* Checked now, in force once the segments are mapped (short-capture
     * cuts the store's frame count). */
    struct es_injection inject = {0};
    if (cfg.inject) {
        char why[256];
        if (es_injection_parse(cfg.inject, &inject, why, sizeof why) != 0)
            die_setup(why);
    }
    if (es_nmapi_record_fatal_signals() != 0)
        die_setup("cannot install the fatal-signal handler");
    struct es_confinement confinement;
    int confined = es_confine_before_load(&cfg, &confinement);
    say_hello(&confinement);
    if (confined != 0)
        _exit(ES_WORKER_EXIT_SETUP);   /* a required layer is missing: load nothing */

    /* The waiting stage: confined, holding no expert code, until the broker
     * hands over the frame store with Register. */
    int passed[ES_CHANNEL_MAX_FDS];
    size_t passed_count = 0;
    Es__Command *cmd = es_channel_recv_command_fds(ES_FD_CONTROL, passed, &passed_count);
    if (!cmd)
        _exit(errno == 0 ? ES_WORKER_EXIT_BROKER_GONE : ES_WORKER_EXIT_PROTOCOL);
    if (cmd->entry != ES__ENTRY__ENTRY_REGISTER || passed_count == 0)
        _exit(ES_WORKER_EXIT_PROTOCOL);
    /* The limit before the mappings it has to account for. */
    if (cmd->has_address_space && es_confine_address_space(&cfg, &confinement, cmd->address_space) != 0)
        die_setup(confinement.report);
    es__command__free_unpacked(cmd, NULL);
    attach_segments(passed[0], passed_count > 1 ? passed[1] : -1);
    if (cfg.inject)
        es_nmapi_set_injection(&inject);

    struct expert x = {0};
    load_expert(&x);
    say_loaded();
    register_expert(&x, cfg.expert_name);

    cmd = expect_command();
    switch (cmd->entry) {
    case ES__ENTRY__ENTRY_QUIT:
        break;
    case ES__ENTRY__ENTRY_RUN:
        run_expert(&x, cmd);
        break;
    case ES__ENTRY__ENTRY_CONFIGURE:
        configure_expert(&x, cmd);
        break;
    default:
        _exit(ES_WORKER_EXIT_PROTOCOL);
    }
    es__command__free_unpacked(cmd, NULL);
    /* _exit, not exit: the expert's destructors and atexit handlers must not
     * get a last word after Finished.  What it printed is still flushed, for
     * the tail the broker keeps of its output. */
    fflush(NULL);
    _exit(ES_WORKER_EXIT_OK);
}
