/*
 * hostile.h - what every hostile test expert shares: a Register that names
 * the expert and says what it attacks, and a way to say which of its own
 * checks failed.
 *
 * Each hostile expert is built as an outside author builds one (netmon.h and
 * libnmapi, nothing of the host's), so it knows nothing the API does not
 * tell it; where an attack needs a fact about the host's internals (the heap
 * segment's layout), the expert spells the fact out itself, with the reason.
 *
 * Convention for experts whose attack is expected to FAIL harmlessly (the
 * helpers refuse, the kernel says no): Run returns TRUE only when every
 * refusal came exactly as documented, and otherwise prints what went wrong on
 * stderr (the broker keeps the tail of it in the outcome, so the test can
 * show it) and returns FALSE.  Then "done" means "the host held", and any
 * other outcome points at the line that did not.
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "netmon.h"

static inline BOOL hostile_register(PEXPERTENUMINFO info, const char *name, const char *attack)
{
    snprintf(info->szName, sizeof info->szName, "%s", name);
    snprintf(info->szVendor, sizeof info->szVendor, "expert-sandbox hostile tests");
    snprintf(info->szDescription, sizeof info->szDescription, "%s", attack);
    info->Version = 1;
    info->Flags = 0;
    return TRUE;
}

/* One line per broken expectation.  stderr is unbuffered, so the line
 * reaches the broker's pipe even if something kills the worker afterwards. */
__attribute__((format(printf, 1, 2))) static inline BOOL hostile_fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("hostile check failed: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    return FALSE;
}

/* Submits `count` small events, EventIdent and column "n" numbered from
 * `first`.  NMERR_SUCCESS, or what ExpertSubmitEvent returned for the one
 * it stopped at (its number in *failed_at). */
static inline DWORD submit_numbered_events(HEXPERTKEY key, const char *source, const char *name, DWORD first,
                                           DWORD count, DWORD *failed_at)
{
    NMEVENTDATA event;
    memset(&event, 0, sizeof event);
    event.Flags = NMEVENTFLAG_EXPERT;
    event.szSourceName = (char *)source;
    event.szEventName = (char *)name;
    event.NumColumns = 1;
    event.Column[0].szColumnName = "n";
    event.Column[0].VariantData.Type = NMCOLUMNTYPE_UINT32;
    for (DWORD i = first; i < first + count; i++) {
        event.EventIdent = i;
        event.Column[0].VariantData.Value.Uint32Val = i;
        DWORD result = ExpertSubmitEvent(key, &event);
        if (result != NMERR_SUCCESS) {
            *failed_at = i;
            return result;
        }
    }
    return NMERR_SUCCESS;
}

/* The body of Register for experts whose attack is in Run. */
#define HOSTILE_REGISTER(name, attack)                                                             \
    BOOL WINAPI Register(PEXPERTENUMINFO info)                                                      \
    {                                                                                              \
        return hostile_register(info, name, attack);                                               \
    }

/* Run's parameter list, which every expert spells the same way. */
#define HOSTILE_RUN_PARAMETERS                                                                     \
    HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent

#endif
