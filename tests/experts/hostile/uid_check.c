/*
 * uid_check - reports who it runs as (uid and gid as event columns) and
 * refuses to count as done if that is root: a root broker must start its
 * workers as an unprivileged user ("nobody" unless told otherwise).
 * Expected (broker running as root): done, 1 event whose columns are the
 * unprivileged user's ids.
 */
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("Who am I", "Reports its uid and gid.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    NMEVENTDATA *event = ExpertAllocMemory(key, sizeof(NMEVENTDATA) + 3 * sizeof(NMCOLUMNINFO), NULL);
    if (!event)
        return hostile_fail("no memory for the event");
    event->szSourceName = "Who am I";
    event->szEventName = "Identity";
    event->NumColumns = 4;
    const char *names[] = {"uid", "euid", "gid", "egid"};
    const DWORD values[] = {(DWORD)getuid(), (DWORD)geteuid(), (DWORD)getgid(), (DWORD)getegid()};
    for (int i = 0; i < 4; i++) {
        event->Column[i].szColumnName = (LPSTR)names[i];
        event->Column[i].VariantData.Type = NMCOLUMNTYPE_UINT32;
        event->Column[i].VariantData.Value.Uint32Val = values[i];
    }
    if (ExpertSubmitEvent(key, event) != NMERR_SUCCESS)
        return hostile_fail("ExpertSubmitEvent failed");
    for (int i = 0; i < 4; i++)
        if (values[i] == 0)
            return hostile_fail("running with %s 0", names[i]);
    return TRUE;
}
