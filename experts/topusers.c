/*
 * topusers.c - "Top Users", a summary expert.
 *
 * Counts, for every address found in the capture, the frames and bytes it
 * sent and received, at two layers: Ethernet (MAC addresses) and IP (IPv4
 * and IPv6 addresses).  Then, for each of the three address families, it
 * submits the top 10 senders and the top 10 receivers, ranked once by bytes
 * and once by frames, and one summary event per family.
 * See docs/experts/topusers.md.
 *
 * The counts are those of Wireshark's endpoint statistics
 * (`tshark -z endpoints,eth`, `endpoints,ip`, `endpoints,ipv6`): a frame
 * counts once for its source (Tx) and once for its destination (Rx), with
 * its length on the wire, for each header that names the addresses.
 *
 * Like protodist.c, it includes only netmon.h and the shared frameparse.h
 * and hostcalls.h,
 * takes its memory from ExpertAllocMemory/ExpertReallocMemory and checks
 * every helper's return value.  Frames are parsed by the capture's link
 * type (GetCaptureLinkType): Ethernet, Linux cooked, BSD loopback, raw IP;
 * MAC addresses exist only in Ethernet captures.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "frameparse.h"
#include "hostcalls.h"
#include "netmon.h"

/* How many addresses each ranking shows.  A constant for now: the expert is
 * not configurable yet, and a configuration would only change this. */
#define TOP_COUNT 10u

/* ------------------------------------------------------------------------ */
/* Address table                                                            */
/* ------------------------------------------------------------------------ */

enum family {
    FAMILY_ETHERNET,
    FAMILY_IPV4,
    FAMILY_IPV6,
    FAMILY_COUNT
};

static const char *const family_names[FAMILY_COUNT] = {"Ethernet", "IPv4", "IPv6"};
static const unsigned family_address_lengths[FAMILY_COUNT] = {FP_MAC_LENGTH, 4, 16};

enum role {
    ROLE_SENDER,
    ROLE_RECEIVER,
    ROLE_COUNT
};

enum metric {
    METRIC_BYTES,
    METRIC_FRAMES,
    METRIC_COUNT
};

struct traffic {
    uint64_t frames;
    uint64_t bytes;
};

struct address_entry {
    BYTE family;                      /* enum family */
    BYTE address[16];                 /* family_address_lengths[family] bytes used, rest zero */
    struct traffic role[ROLE_COUNT];  /* sent, received */
};

struct family_totals {
    uint64_t frames;                  /* frames carrying this family's header */
    uint64_t bytes;
    DWORD addresses;                  /* distinct addresses */
};

struct address_table {
    struct address_entry *entries;
    DWORD entry_count;
    DWORD entry_capacity;
    DWORD *slots;                     /* hash table of indices into entries */
    DWORD slot_count;                 /* a power of two */
    int table_full;                   /* memory ran out: new addresses are not counted */
    uint64_t uncounted;               /* address occurrences lost to that */
    struct family_totals totals[FAMILY_COUNT];
};

#define EMPTY_SLOT UINT32_MAX
#define INITIAL_ENTRIES 64u
#define INITIAL_SLOTS 128u
#define MAX_ENTRIES (UINT32_MAX / 4)

/* ------------------------------------------------------------------------ */
/* Talking to the host                                                      */
/* ------------------------------------------------------------------------ */

/* EXPERTSTATUS_PROBLEM sub-statuses, documented in docs/experts/topusers.md. */
enum problem {
    PROBLEM_FRAME_READ = EXPERT_PROBLEM_FRAME_READ,
    PROBLEM_OUT_OF_MEMORY = EXPERT_PROBLEM_OUT_OF_MEMORY,
    PROBLEM_SUBMIT = 3,
    PROBLEM_HOST_FRAME_ORDER = EXPERT_PROBLEM_HOST_FRAME_ORDER,
    PROBLEM_FREE = 5,
};

#define EVENT_COLUMNS 9
/* Ranking events: 1 + family * 4 + role * 2 + metric, so 1-12; the summary
 * of each family is 13.  One EventIdent per table, as NetMon's event
 * reference pages are per EventIdent. */
#define EVENT_IDENT_FIRST_RANKING 1
#define EVENT_IDENT_SUMMARY 13

static char expert_name[] = "Top Users";
static char column_address[] = "Address";
static char column_frames[] = "Frames";
static char column_bytes[] = "Bytes";
static char column_rank[] = "Rank";
static char column_role[] = "Role";
static char column_ranked_by[] = "Ranked by";
static char column_family[] = "Family";
static char column_frames_percent[] = "Frames %";
static char column_bytes_percent[] = "Bytes %";
static char column_addresses[] = "Addresses";

static const char *const role_names[ROLE_COUNT] = {"sender", "receiver"};
static const char *const metric_names[METRIC_COUNT] = {"bytes", "frames"};

struct run_state {
    struct expert_host host;  /* key, terminated, status_broken */
    HCAPTURE capture;         /* from the startup information; may be NULL */
    DWORD link_type;          /* the capture's DLT_*, see frameparse.h */
    struct address_table *table;
    NMEVENTDATA *event;
};

/* Releases everything and gives Run's return value. */
static BOOL finish(struct run_state *run, BOOL succeeded)
{
    int freed = release(&run->host, run->event);
    if (run->table != NULL) {
        freed &= release(&run->host, run->table->entries);
        freed &= release(&run->host, run->table->slots);
        freed &= release(&run->host, run->table);
    }
    run->event = NULL;
    run->table = NULL;
    if (run->host.terminated)
        return FALSE;
    if (!freed) {
        if (succeeded)
            report_problem(&run->host, PROBLEM_FREE, "ExpertFreeMemory refused a block of ours",
                           NMERR_INVALID_PARAMETER);
        return FALSE;
    }
    return succeeded;
}

/* ------------------------------------------------------------------------ */
/* Counting                                                                 */
/* ------------------------------------------------------------------------ */

/* FNV-1a over the family and the address. */
static DWORD hash_address(enum family family, const BYTE *address)
{
    DWORD hash = 2166136261u;
    hash = (hash ^ (DWORD)family) * 16777619u;
    for (unsigned index = 0; index < family_address_lengths[family]; index++)
        hash = (hash ^ address[index]) * 16777619u;
    return hash;
}

static DWORD find_slot(const struct address_table *table, enum family family, const BYTE *address)
{
    DWORD mask = table->slot_count - 1;
    DWORD slot = hash_address(family, address) & mask;
    for (;;) {
        DWORD index = table->slots[slot];
        if (index == EMPTY_SLOT)
            return slot;
        const struct address_entry *entry = &table->entries[index];
        if (entry->family == family && memcmp(entry->address, address, family_address_lengths[family]) == 0)
            return slot;
        slot = (slot + 1) & mask;
    }
}

static int grow_slots(struct run_state *run)
{
    struct address_table *table = run->table;
    DWORD new_count = table->slot_count * 2;
    DWORD *fresh = try_resize(&run->host, NULL, (SIZE_T)new_count * sizeof(DWORD));
    if (fresh == NULL)
        return 0;
    if (!release(&run->host, table->slots)) {
        release(&run->host, fresh);
        return 0;
    }
    table->slots = fresh;
    table->slot_count = new_count;
    for (DWORD slot = 0; slot < new_count; slot++)
        fresh[slot] = EMPTY_SLOT;
    for (DWORD index = 0; index < table->entry_count; index++) {
        const struct address_entry *entry = &table->entries[index];
        fresh[find_slot(table, (enum family)entry->family, entry->address)] = index;
    }
    return 1;
}

/* Memory ran out: addresses already known keep counting, new ones are
 * only tallied in `uncounted`.  Reported once; the run goes on. */
static struct address_entry *stop_adding(struct run_state *run)
{
    if (!run->table->table_full && !run->host.terminated)
        report_problem(&run->host, PROBLEM_OUT_OF_MEMORY, "out of memory: new addresses are not counted",
                       NMERR_OUT_OF_MEMORY);
    run->table->table_full = 1;
    return NULL;
}

/* The entry for an address, added if new; NULL when it cannot be added. */
static struct address_entry *entry_for(struct run_state *run, enum family family, const BYTE *address)
{
    struct address_table *table = run->table;
    DWORD slot = find_slot(table, family, address);
    if (table->slots[slot] != EMPTY_SLOT)
        return &table->entries[table->slots[slot]];
    if (table->table_full || table->entry_count >= MAX_ENTRIES)
        return stop_adding(run);
    /* Keep the load factor at most one half: linear probing stays short. */
    if ((table->entry_count + 1) * 2 > table->slot_count) {
        if (!grow_slots(run))
            return stop_adding(run);
        slot = find_slot(table, family, address);
    }
    if (table->entry_count == table->entry_capacity) {
        DWORD capacity = table->entry_capacity * 2;
        struct address_entry *grown =
            try_resize(&run->host, table->entries, (SIZE_T)capacity * sizeof(struct address_entry));
        if (grown == NULL)
            return stop_adding(run);
        table->entries = grown;
        table->entry_capacity = capacity;
    }
    DWORD index = table->entry_count++;
    struct address_entry *entry = &table->entries[index];
    memset(entry, 0, sizeof(*entry));
    entry->family = (BYTE)family;
    memcpy(entry->address, address, family_address_lengths[family]);
    table->slots[slot] = index;
    table->totals[family].addresses++;
    return entry;
}

static void count_address(struct run_state *run, enum family family, const BYTE *address, enum role role,
                          DWORD frame_length)
{
    struct address_entry *entry = entry_for(run, family, address);
    if (entry == NULL) {
        run->table->uncounted++;
        return;
    }
    entry->role[role].frames++;
    entry->role[role].bytes += frame_length;
}

/* One frame: its source and destination at each layer that names them.
 * The source is counted before the destination, so a frame a host sends to
 * itself counts once as sent and once as received, as in Wireshark. */
static void count_pair(struct run_state *run, enum family family, const BYTE *source,
                       const BYTE *destination, DWORD frame_length)
{
    struct family_totals *totals = &run->table->totals[family];
    totals->frames++;
    totals->bytes += frame_length;
    count_address(run, family, source, ROLE_SENDER, frame_length);
    count_address(run, family, destination, ROLE_RECEIVER, frame_length);
}

static void count_frame(struct run_state *run, const FRAME *frame)
{
    struct fp_packet packet;
    enum fp_layer layer = fp_parse_frame(run->link_type, frame->MacFrame, frame->nBytesAvail, frame->FrameLength, &packet);
    if (layer < FP_LAYER_LINK)
        return;
    /* MAC addresses only from Ethernet headers: a Linux cooked capture's
     * one link address is not an Ethernet endpoint (nor is it in tshark). */
    if (packet.source_mac != NULL)
        count_pair(run, FAMILY_ETHERNET, packet.source_mac, packet.destination_mac, frame->FrameLength);
    if (packet.network == FP_NETWORK_IPV4)
        count_pair(run, FAMILY_IPV4, packet.source_ip, packet.destination_ip, frame->FrameLength);
    /* An IPv6 header whose extension headers were cut off or run past the
     * datagram is malformed: Wireshark does not count its addresses. */
    else if (packet.network == FP_NETWORK_IPV6 && packet.ip_header_complete)
        count_pair(run, FAMILY_IPV6, packet.source_ip, packet.destination_ip, frame->FrameLength);
}

/* ------------------------------------------------------------------------ */
/* Ranking                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Order of a ranking: the metric, then the other metric, both descending,
 * then the address ascending, so that two runs over one capture give the
 * same list even when counts tie.
 */
static int ranks_before(const struct address_entry *left, const struct address_entry *right, enum role role,
                        enum metric metric)
{
    const struct traffic *a = &left->role[role];
    const struct traffic *b = &right->role[role];
    uint64_t a_first = metric == METRIC_BYTES ? a->bytes : a->frames;
    uint64_t b_first = metric == METRIC_BYTES ? b->bytes : b->frames;
    uint64_t a_second = metric == METRIC_BYTES ? a->frames : a->bytes;
    uint64_t b_second = metric == METRIC_BYTES ? b->frames : b->bytes;
    if (a_first != b_first)
        return a_first > b_first;
    if (a_second != b_second)
        return a_second > b_second;
    return memcmp(left->address, right->address, sizeof(left->address)) < 0;
}

/* Picks the top TOP_COUNT entries of a family that took the role at least
 * once, in ranking order, by insertion into a short sorted list: one pass
 * over the table, no sorting of all of it and no extra memory. */
static DWORD select_top(const struct address_table *table, enum family family, enum role role,
                        enum metric metric, const struct address_entry **top)
{
    DWORD used = 0;
    for (DWORD index = 0; index < table->entry_count; index++) {
        const struct address_entry *entry = &table->entries[index];
        if (entry->family != family || entry->role[role].frames == 0)
            continue;
        if (used == TOP_COUNT && !ranks_before(entry, top[used - 1], role, metric))
            continue;
        DWORD slot = used < TOP_COUNT ? used++ : TOP_COUNT - 1;
        while (slot > 0 && ranks_before(entry, top[slot - 1], role, metric)) {
            top[slot] = top[slot - 1];
            slot--;
        }
        top[slot] = entry;
    }
    return used;
}

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

/* MACADDR and IPADDR have column types of their own; an IPv6 address has
 * none in the API, so it is text.  `text` must outlive the submit. */
static void set_address_column(NMCOLUMNINFO *column, const struct address_entry *entry, char *text,
                               size_t text_size)
{
    column->szColumnName = column_address;
    switch ((enum family)entry->family) {
    case FAMILY_ETHERNET:
        column->VariantData.Type = NMCOLUMNTYPE_MACADDR;
        memcpy(column->VariantData.Value.MACAddrVal, entry->address, MAC_ADDRESS_SIZE);
        fp_format_mac(entry->address, text, text_size);
        break;
    case FAMILY_IPV4:
        column->VariantData.Type = NMCOLUMNTYPE_IPADDR;
        /* The DWORD holds the address as stored in the frame. */
        memcpy(&column->VariantData.Value.IPAddrVal, entry->address, 4);
        fp_format_ip(entry->address, 4, text, text_size);
        break;
    default:
        fp_format_ip(entry->address, 16, text, text_size);
        column->VariantData.Type = NMCOLUMNTYPE_STRING;
        column->VariantData.Value.pStringVal = text;
        break;
    }
}

static double percent_of(uint64_t part, uint64_t whole)
{
    return whole == 0 ? 0.0 : (double)part * 100.0 / (double)whole;
}

static void prepare_event(NMEVENTDATA *event, DWORD ident, char *event_name, char *description)
{
    memset(event, 0, sizeof(*event) + (EVENT_COLUMNS - 1) * sizeof(NMCOLUMNINFO));
    event->Version = 0;
    event->EventIdent = ident;
    event->Flags = NMEVENTFLAG_EXPERT;
    event->Severity = NMEVENT_SEVERITY_INFORMATIONAL;
    event->szSourceName = expert_name;
    event->szEventName = event_name;
    event->szDescription = description;
}

/* Returns 0 when the run must stop (terminated or the submit failed). */
static int submit(struct run_state *run, const char *what)
{
    DWORD error = ExpertSubmitEvent(run->host.key, run->event);
    if (error == NMERR_SUCCESS)
        return 1;
    if (error == NMERR_EXPERT_TERMINATE) {
        run->host.terminated = 1;
    } else {
        char text[128];
        snprintf(text, sizeof(text), "could not submit the event for %s", what);
        report_problem(&run->host, PROBLEM_SUBMIT, text, error);
    }
    return 0;
}

static int submit_ranking(struct run_state *run, enum family family, enum role role, enum metric metric)
{
    const struct address_entry *top[TOP_COUNT];
    const struct family_totals *totals = &run->table->totals[family];
    DWORD count = select_top(run->table, family, role, metric, top);
    char event_name[64];
    snprintf(event_name, sizeof(event_name), "Top %s %s by %s", family_names[family], role_names[role],
             metric_names[metric]);

    for (DWORD rank = 0; rank < count; rank++) {
        const struct traffic *traffic = &top[rank]->role[role];
        char address_text[FP_IP_TEXT_SIZE];
        char description[256];
        double frames_percent = percent_of(traffic->frames, totals->frames);
        double bytes_percent = percent_of(traffic->bytes, totals->bytes);

        prepare_event(run->event,
                      EVENT_IDENT_FIRST_RANKING + (DWORD)family * 4 + (DWORD)role * 2 + (DWORD)metric,
                      event_name, description);
        NMCOLUMNINFO *columns = run->event->Column;
        set_address_column(&columns[0], top[rank], address_text, sizeof(address_text));
        set_uint32_column(&columns[1], column_frames, traffic->frames);
        /* Bytes can pass 4 GiB in a long capture; a double is exact to 2^53. */
        set_float64_column(&columns[2], column_bytes, (double)traffic->bytes);
        set_uint32_column(&columns[3], column_rank, rank + 1);
        set_string_column(&columns[4], column_role, role_names[role]);
        set_string_column(&columns[5], column_ranked_by, metric_names[metric]);
        set_string_column(&columns[6], column_family, family_names[family]);
        set_float64_column(&columns[7], column_frames_percent, frames_percent);
        set_float64_column(&columns[8], column_bytes_percent, bytes_percent);
        run->event->NumColumns = 9;
        snprintf(description, sizeof(description),
                 "#%lu %s %s by %s: %s, %llu %s (%.1f%%), %llu %s (%.1f%%) %s", (unsigned long)rank + 1,
                 family_names[family], role_names[role], metric_names[metric], address_text,
                 (unsigned long long)traffic->frames, traffic->frames == 1 ? "frame" : "frames",
                 frames_percent, (unsigned long long)traffic->bytes, traffic->bytes == 1 ? "byte" : "bytes",
                 bytes_percent, role == ROLE_SENDER ? "sent" : "received");
        if (!submit(run, event_name))
            return 0;
    }
    return 1;
}

static int submit_family_summary(struct run_state *run, enum family family)
{
    static char event_name[] = "Summary";
    const struct family_totals *totals = &run->table->totals[family];
    char family_text[16];
    char description[256];
    snprintf(family_text, sizeof(family_text), "%s", family_names[family]);
    int written = snprintf(description, sizeof(description), "%s: %lu %s in %llu %s, %llu bytes",
                           family_names[family], (unsigned long)totals->addresses,
                           totals->addresses == 1 ? "address" : "addresses",
                           (unsigned long long)totals->frames, totals->frames == 1 ? "frame" : "frames",
                           (unsigned long long)totals->bytes);
    if (!fp_link_type_supported(run->link_type) && written > 0 && (size_t)written < sizeof(description))
        snprintf(description + written, sizeof(description) - (size_t)written,
                 "; link type %lu is not supported: no frame was read", (unsigned long)run->link_type);
    else if (run->table->uncounted != 0 && written > 0 && (size_t)written < sizeof(description))
        snprintf(description + written, sizeof(description) - (size_t)written,
                 "; out of memory: %llu address occurrences not counted",
                 (unsigned long long)run->table->uncounted);

    prepare_event(run->event, EVENT_IDENT_SUMMARY, event_name, description);
    NMCOLUMNINFO *columns = run->event->Column;
    set_string_column(&columns[0], column_family, family_text);
    set_uint32_column(&columns[1], column_addresses, totals->addresses);
    set_uint32_column(&columns[2], column_frames, totals->frames);
    set_float64_column(&columns[3], column_bytes, (double)totals->bytes);
    run->event->NumColumns = 4;
    return submit(run, "a summary");
}

static BOOL submit_all_events(struct run_state *run)
{
    for (int family = 0; family < FAMILY_COUNT; family++) {
        for (int role = 0; role < ROLE_COUNT; role++) {
            for (int metric = 0; metric < METRIC_COUNT; metric++) {
                if (!submit_ranking(run, (enum family)family, (enum role)role, (enum metric)metric))
                    return FALSE;
            }
        }
        if (!submit_family_summary(run, (enum family)family))
            return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The frame loop                                                           */
/* ------------------------------------------------------------------------ */

/* Honour the display filter the analyst gave the host (--filter): the top
 * users are then those of the frames the analyst selected. */
#define FRAME_REQUEST_FLAGS FLAGS_DEFER_TO_UI_FILTER

static BOOL count_all_frames(struct run_state *run)
{
    struct frame_walk walk;
    frame_walk_begin(&walk, run->capture, FRAME_REQUEST_FLAGS);
    int got;
    while ((got = frame_walk_next(&run->host, &walk)) > 0) {
        if (walk.descriptor.pFrame != NULL)
            count_frame(run, walk.descriptor.pFrame);
        if (!frame_walk_progress(&run->host, &walk))
            return FALSE;
    }
    return got == 0;
}

static int create_table(struct run_state *run)
{
    run->table = allocate(&run->host, sizeof(*run->table), "no memory for the address table");
    if (run->table == NULL)
        return 0;
    /* The host's zero-filling is not part of the reference API. */
    memset(run->table, 0, sizeof(*run->table));
    struct address_table *table = run->table;
    table->entries =
        allocate(&run->host, INITIAL_ENTRIES * sizeof(struct address_entry), "no memory for the address table");
    table->slots = allocate(&run->host, INITIAL_SLOTS * sizeof(DWORD), "no memory for the address table");
    if (table->entries == NULL || table->slots == NULL)
        return 0;
    table->entry_capacity = INITIAL_ENTRIES;
    table->slot_count = INITIAL_SLOTS;
    for (DWORD slot = 0; slot < INITIAL_SLOTS; slot++)
        table->slots[slot] = EMPTY_SLOT;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                             */
/* ------------------------------------------------------------------------ */

BOOL WINAPI Register(PEXPERTENUMINFO pExpertInfo)
{
    if (pExpertInfo == NULL)
        return FALSE;
    snprintf(pExpertInfo->szName, sizeof(pExpertInfo->szName), "%s", expert_name);
    snprintf(pExpertInfo->szVendor, sizeof(pExpertInfo->szVendor), "expert-sandbox");
    snprintf(pExpertInfo->szDescription, sizeof(pExpertInfo->szDescription),
             "Top %u senders and receivers by frames and by bytes, for MAC, IPv4 and IPv6 "
             "addresses.",
             TOP_COUNT);
    pExpertInfo->Version = 0;
    pExpertInfo->Flags = 0;
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY hExpertKey, PEXPERTCONFIG pConfig, PEXPERTSTARTUPINFO pExpertStartupInfo,
                DWORD StartupFlags, HWND hWndParent)
{
    /* Not configurable yet, and the whole capture is analysed whatever had
     * the focus: of the startup data only the capture handle is used. */
    (void)pConfig;
    (void)StartupFlags;
    (void)hWndParent;

    struct run_state run = {.host = {.key = hExpertKey}};
    run.capture = pExpertStartupInfo != NULL ? pExpertStartupInfo->hCapture : NULL;
    run.link_type = fp_capture_link_type(run.capture);
    if (!report_progress(&run.host, EXPERTSTATUS_STARTING, 0))
        return FALSE;

    run.event = allocate(&run.host, sizeof(NMEVENTDATA) + (EVENT_COLUMNS - 1) * sizeof(NMCOLUMNINFO),
                         "no memory for an event");
    if (run.event == NULL || !create_table(&run))
        return finish(&run, FALSE);

    if (!report_progress(&run.host, EXPERTSTATUS_RUNNING, 0))
        return finish(&run, FALSE);
    /* A capture of a link type the parser does not know is not read at
     * all: its frames would only be misparsed.  The summary says so. */
    if (fp_link_type_supported(run.link_type) && !count_all_frames(&run))
        return finish(&run, FALSE);
    if (!submit_all_events(&run))
        return finish(&run, FALSE);
    /* Progress reports may have replaced the out-of-memory problem as the
     * last status: say it again, the rankings are incomplete. */
    if (run.table->table_full)
        report_problem(&run.host, PROBLEM_OUT_OF_MEMORY, "out of memory: some addresses were not counted",
                       NMERR_OUT_OF_MEMORY);
    return finish(&run, TRUE);
}
