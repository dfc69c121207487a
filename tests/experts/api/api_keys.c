/*
 * api_keys - helpers called with a key that is not the one of the call in
 * progress.  netmon.h: "a helper accepts only the HEXPERTKEY of the Run or
 * Configure call in progress; any other key (a cached one, NULL, one made
 * up) gives NMERR_INVALID_PARAMETER".
 *
 * Register has no key at all: it calls every helper with NULL and with a
 * made-up key and keeps the answers for Run to report.  Run does the same
 * with NULL, a made-up key and its own key plus one byte, then once with its
 * real key as the control.  A status or event a wrong key slipped through
 * would show: the status says PROBLEM (the outcome would not be "done") and
 * the event is named "ghost" (the control's is named "control").
 *
 * Events "keys:<label>" (see api_report.h), one per key tried:
 *   alloc_rc, alloc_null, realloc_rc, realloc_null, free_rc, size,
 *   status_rc, submit_rc, getinfo_rc, frame_rc, compile_rc, compile_null
 * and "survivor": block_size (the block the wrong keys tried to free and
 * resize, asked with the right key), block_intact (its bytes unchanged).
 */
#include "api_report.h"

struct answers {
    DWORD alloc_rc, realloc_rc, free_rc, status_rc, submit_rc, getinfo_rc, frame_rc, compile_rc;
    BOOL alloc_null, realloc_null, compile_null;
    SIZE_T size;
};

static struct answers from_register_null, from_register_made_up;
static int made_up_key_target;

#define SURVIVOR_SIZE 64

/* Every helper with `key`; `block` is a live block of the real key's heap
 * (NULL in Register, where there is none). */
static void ask_everything(HEXPERTKEY key, LPVOID block, const char *event_name, struct answers *a)
{
    a->alloc_rc = 0xDEADBEEF;
    LPVOID fresh = ExpertAllocMemory(key, 32, &a->alloc_rc);
    a->alloc_null = fresh == NULL;
    a->realloc_rc = 0xDEADBEEF;
    LPVOID moved = ExpertReallocMemory(key, block, 4096, &a->realloc_rc);
    a->realloc_null = moved == NULL;
    if (moved)
        block = moved;   /* the real key: the old block is gone */
    a->free_rc = ExpertFreeMemory(key, block);
    a->size = ExpertMemorySize(key, block);
    a->status_rc = ExpertIndicateStatus(key, EXPERTSTATUS_PROBLEM, 77, "a wrong key", 50);
    report_begin(event_name);
    a->submit_rc = report_send(key);
    EXPERTSTARTUPINFO info;
    a->getinfo_rc = ExpertGetStartupInfo(key, &info);
    EXPERTFRAMEDESCRIPTOR d;
    a->frame_rc = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, NULL, &d);
    a->compile_rc = 0xDEADBEEF;
    HFILTER filter = ExpertCompileFilter(key, "ip", &a->compile_rc);
    a->compile_null = filter == NULL;
    if (filter)
        DestroyFilter(filter);
}

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    report_register(info, "API keys", "Helpers with the wrong key");
    ask_everything(NULL, NULL, "ghost", &from_register_null);
    ask_everything((HEXPERTKEY)&made_up_key_target, NULL, "ghost", &from_register_made_up);
    return TRUE;
}

static void report_answers(HEXPERTKEY key, const char *label, const struct answers *a)
{
    report_begin(label);
    report_u32("alloc_rc", a->alloc_rc);
    report_yesno("alloc_null", a->alloc_null);
    report_u32("realloc_rc", a->realloc_rc);
    report_yesno("realloc_null", a->realloc_null);
    report_u32("free_rc", a->free_rc);
    report_u32("size", (DWORD)a->size);
    report_u32("status_rc", a->status_rc);
    report_u32("submit_rc", a->submit_rc);
    report_u32("getinfo_rc", a->getinfo_rc);
    report_u32("frame_rc", a->frame_rc);
    report_u32("compile_rc", a->compile_rc);
    report_yesno("compile_null", a->compile_null);
    report_send(key);
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)config;
    (void)startup;
    (void)flags;
    (void)parent;
    report_answers(key, "keys:register_null", &from_register_null);
    report_answers(key, "keys:register_made_up", &from_register_made_up);

    BYTE *survivor = ExpertAllocMemory(key, SURVIVOR_SIZE, NULL);
    if (!survivor)
        return FALSE;
    for (int i = 0; i < SURVIVOR_SIZE; i++)
        survivor[i] = (BYTE)(0x40 + i);

    struct answers a;
    ask_everything(NULL, survivor, "ghost", &a);
    report_answers(key, "keys:run_null", &a);
    ask_everything((HEXPERTKEY)&made_up_key_target, survivor, "ghost", &a);
    report_answers(key, "keys:run_made_up", &a);
    ask_everything((HEXPERTKEY)((char *)key + 1), survivor, "ghost", &a);
    report_answers(key, "keys:run_key_plus_one", &a);

    BOOL intact = TRUE;
    for (int i = 0; i < SURVIVOR_SIZE; i++)
        intact = intact && survivor[i] == (BYTE)(0x40 + i);
    report_begin("survivor");
    report_u32("block_size", (DWORD)ExpertMemorySize(key, survivor));
    report_yesno("block_intact", intact);
    report_send(key);

    /* The control: the same calls with the real key all work.  The status
     * goes first so that its PROBLEM is replaced by RUNNING before Run ends. */
    BYTE *control_block = ExpertAllocMemory(key, 16, NULL);
    ask_everything(key, control_block, "control", &a);
    ExpertIndicateStatus(key, EXPERTSTATUS_RUNNING, 0, "control done", 99);
    report_answers(key, "keys:run_real", &a);
    return TRUE;
}
