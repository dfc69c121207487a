/*
 * tcpretrans.c - "TCP Retransmit", a problem expert.
 *
 * Follows every TCP connection in the capture, one sequence-number state per
 * direction, and reports each segment that repeats data (or a SYN or FIN)
 * already sent: a retransmission, a fast retransmission, or a spurious
 * retransmission.  After the last frame it reports, for every connection that
 * had retransmissions, how many and how many bytes, and one capture summary.
 * See docs/experts/tcpretrans.md.
 *
 * The classification re-implements the TCP "SEQ/ACK analysis" rules that
 * Wireshark documents (User's Guide, "TCP Analysis"), in the order
 * Wireshark 4.0 applies them, so that the frames reported here are the ones
 * `tshark -Y tcp.analysis.retransmission` shows.  Only the rules that decide
 * whether a segment is a retransmission are kept: keep-alive, zero-window
 * probe, duplicate ACK (for fast retransmissions), out-of-order (which is not
 * a retransmission) and the three retransmission kinds.  Where this expert
 * cannot see what Wireshark sees (IP fragments, tunnels), the doc says so.
 *
 * Like protodist.c, it includes only netmon.h (and the shared, header-only
 * frameparse.h and hostcalls.h), takes its memory from ExpertAllocMemory/ExpertReallocMemory,
 * and checks every helper's return value.  Frames are parsed by the
 * capture's link type (GetCaptureLinkType): Ethernet, Linux cooked, BSD
 * loopback and raw IP; a frame that does not parse down to TCP is skipped.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "frameparse.h"
#include "hostcalls.h"
#include "netmon.h"

/* ------------------------------------------------------------------------ */
/* Connection state                                                         */
/* ------------------------------------------------------------------------ */

/* What one segment was found to be (Wireshark's TCP_A_* analysis flags,
 * reduced to the ones that matter for retransmissions). */
enum segment_mark {
    MARK_KEEP_ALIVE = 0x01,
    MARK_ZERO_WINDOW_PROBE = 0x02,
    MARK_DUPLICATE_ACK = 0x04,
    MARK_OUT_OF_ORDER = 0x08,
    MARK_RETRANSMISSION = 0x10,
    MARK_FAST_RETRANSMISSION = 0x20,
    MARK_SPURIOUS_RETRANSMISSION = 0x40,
};

enum retransmission_kind {
    KIND_RETRANSMISSION,
    KIND_FAST,
    KIND_SPURIOUS,
    KIND_COUNT
};

static const char *const kind_names[KIND_COUNT] = {
    [KIND_RETRANSMISSION] = "retransmission",
    [KIND_FAST] = "fast retransmission",
    [KIND_SPURIOUS] = "spurious retransmission",
};

static const char *const kind_tags[KIND_COUNT] = {
    [KIND_RETRANSMISSION] = "TCP Retransmission",
    [KIND_FAST] = "TCP Fast Retransmission",
    [KIND_SPURIOUS] = "TCP Spurious Retransmission",
};

/*
 * Wireshark's fast-retransmission window: a repeated segment within this
 * time of the last duplicate ACK from the other side.  Its out-of-order
 * window is the connection's handshake round-trip time, or this default
 * when the handshake was not seen.  Both in nanoseconds, as Wireshark keeps
 * them, so that its comparisons carry over exactly.
 */
#define FAST_RETRANSMISSION_WINDOW_NS 20000000u
#define DEFAULT_OUT_OF_ORDER_WINDOW_NS 3000000u
#define NS_PER_US 1000

/*
 * The segments a direction sent recently, to name the frame a
 * retransmission repeats.  A ring that starts small and doubles up to its
 * cap, so that the many short connections of a capture cost little; beyond
 * the cap the oldest entries are overwritten (a retransmission of data sent
 * more than this many segments before then has no "repeats" frame).
 */
#define HISTORY_INITIAL 8u
#define HISTORY_MAX 512u

struct sent_segment {
    DWORD frame;    /* 0-based */
    DWORD seq;      /* first sequence number */
    DWORD end;      /* seq + length (+1 for SYN or FIN) */
};

/* One direction of a connection: the sender of these segments. */
struct flow {
    /* Wireshark's per-direction analysis state.  As in Wireshark, a
     * next_seq, last_ack or max_seq_to_be_acked of 0 means "none yet". */
    DWORD base_seq;              /* for relative sequence numbers */
    DWORD next_seq;              /* highest seq + length seen */
    int64_t next_seq_time;       /* microseconds */
    DWORD last_ack;
    int64_t last_ack_time;
    DWORD window;                /* last window sent; UINT32_MAX before any */
    DWORD max_seq_to_be_acked;   /* highest in-order seq + length */
    DWORD duplicate_acks;        /* in a row, from this direction */
    DWORD last_segment_marks;    /* marks of the previous segment */
    BYTE base_seq_set;

    /* Recently sent segments, see HISTORY_*. */
    struct sent_segment *history;
    DWORD history_capacity;
    DWORD history_count;
    DWORD history_next;          /* slot the next segment goes to */

    /* Statistics for the summaries. */
    DWORD segments;              /* carrying data, SYN or FIN */
    uint64_t payload_bytes;
    DWORD retransmissions[KIND_COUNT];
    uint64_t retransmitted_bytes;
};

/* A connection's two endpoints in a fixed order, so that both directions
 * find the same entry: endpoint 0 is the lower (address, port). */
struct connection_key {
    BYTE address_length;         /* 4 or 16 */
    BYTE address[2][16];
    WORD port[2];
};

struct connection {
    struct connection_key key;
    struct flow flows[2];        /* flows[i]: segments sent by endpoint i */
    DWORD first_frame;
    int64_t syn_time;            /* last SYN without ACK (Wireshark's ts_mru_syn) */
    int64_t first_rtt;           /* SYN to the first pure ACK after it, µs */
    BYTE syn_seen;
    BYTE first_rtt_known;
    signed char client;          /* endpoint that sent the SYN, -1 if unknown */
};

struct tracker {
    struct connection *connections;   /* in order of first appearance */
    DWORD connection_count;
    DWORD connection_capacity;
    DWORD *slots;                     /* hash table of indices into connections */
    DWORD slot_count;                 /* a power of two */
    int table_full;                   /* memory ran out: no new connections */
    uint64_t untracked_segments;      /* of connections that could not be added */
    uint64_t skipped_fragments;       /* TCP in IP fragments: not analysed */
};

#define EMPTY_SLOT UINT32_MAX
#define INITIAL_CONNECTIONS 64u
#define INITIAL_SLOTS 128u
/* Frame numbers and counts are DWORDs: more connections than that cannot
 * occur in a capture the host can index. */
#define MAX_CONNECTIONS (UINT32_MAX / 4)

/* ------------------------------------------------------------------------ */
/* Talking to the host                                                      */
/* ------------------------------------------------------------------------ */

/* EXPERTSTATUS_PROBLEM sub-statuses, documented in docs/experts/tcpretrans.md. */
enum problem {
    PROBLEM_FRAME_READ = EXPERT_PROBLEM_FRAME_READ,
    PROBLEM_OUT_OF_MEMORY = EXPERT_PROBLEM_OUT_OF_MEMORY,
    PROBLEM_SUBMIT = 3,
    PROBLEM_HOST_FRAME_ORDER = EXPERT_PROBLEM_HOST_FRAME_ORDER,
    PROBLEM_FREE = 5,
};

#define EVENT_COLUMNS 9
#define EVENT_IDENT_RETRANSMISSION 1
#define EVENT_IDENT_CONNECTION_SUMMARY 2
#define EVENT_IDENT_CAPTURE_SUMMARY 3

static char expert_name[] = "TCP Retransmit";
static char column_frame[] = "Frame";
static char column_repeats[] = "Repeats frame";
static char column_connection[] = "Connection";
static char column_seq[] = "Seq";
static char column_length[] = "Length";
static char column_kind[] = "Kind";
static char column_retransmissions[] = "Retransmissions";
static char column_fast[] = "Fast retransmissions";
static char column_spurious[] = "Spurious retransmissions";
static char column_retransmitted_bytes[] = "Retransmitted bytes";
static char column_segments[] = "Segments";
static char column_payload_bytes[] = "Payload bytes";
static char column_retransmitted_percent[] = "Retransmitted %";
static char column_first_frame[] = "First frame";
static char column_connections[] = "Connections";
static char column_affected[] = "Connections with retransmissions";
static char column_untracked[] = "Untracked segments";

struct run_state {
    struct expert_host host;  /* key, terminated, status_broken */
    HCAPTURE capture;         /* from the startup information; may be NULL */
    DWORD link_type;          /* the capture's DLT_*, see frameparse.h */
    struct tracker *tracker;
    NMEVENTDATA *event;
};

static int release_tracker(struct run_state *run)
{
    struct tracker *tracker = run->tracker;
    int freed = 1;
    if (tracker == NULL)
        return 1;
    for (DWORD index = 0; index < tracker->connection_count; index++) {
        for (int side = 0; side < 2; side++)
            freed &= release(&run->host, tracker->connections[index].flows[side].history);
    }
    freed &= release(&run->host, tracker->connections);
    freed &= release(&run->host, tracker->slots);
    freed &= release(&run->host, tracker);
    run->tracker = NULL;
    return freed;
}

/* Releases everything and gives Run's return value. */
static BOOL finish(struct run_state *run, BOOL succeeded)
{
    int freed_event = release(&run->host, run->event);
    int freed_tracker = release_tracker(run);
    run->event = NULL;
    if (run->host.terminated)
        return FALSE;
    if (!freed_event || !freed_tracker) {
        if (succeeded)
            report_problem(&run->host, PROBLEM_FREE, "ExpertFreeMemory refused a block of ours",
                           NMERR_INVALID_PARAMETER);
        return FALSE;
    }
    return succeeded;
}

/* ------------------------------------------------------------------------ */
/* The connection table                                                     */
/* ------------------------------------------------------------------------ */

/* Orders the segment's two endpoints; returns which of them sent it. */
static int make_key(const struct fp_packet *packet, struct connection_key *key)
{
    unsigned length = packet->ip_address_length;
    int order = memcmp(packet->source_ip, packet->destination_ip, length);
    if (order == 0)
        order = (int)packet->source_port - (int)packet->destination_port;
    int sender = order <= 0 ? 0 : 1;

    memset(key, 0, sizeof(*key));
    key->address_length = (BYTE)length;
    memcpy(key->address[sender], packet->source_ip, length);
    memcpy(key->address[1 - sender], packet->destination_ip, length);
    key->port[sender] = packet->source_port;
    key->port[1 - sender] = packet->destination_port;
    return sender;
}

/* FNV-1a: simple, and good enough for addresses and ports. */
static DWORD hash_key(const struct connection_key *key)
{
    const BYTE *bytes = (const BYTE *)key;
    DWORD hash = 2166136261u;
    for (size_t index = 0; index < sizeof(*key); index++) {
        hash ^= bytes[index];
        hash *= 16777619u;
    }
    return hash;
}

static int same_key(const struct connection_key *left, const struct connection_key *right)
{
    return memcmp(left, right, sizeof(*left)) == 0;
}

/* The slot that holds key, or the empty slot where it would go. */
static DWORD find_slot(const struct tracker *tracker, const struct connection_key *key)
{
    DWORD mask = tracker->slot_count - 1;
    DWORD slot = hash_key(key) & mask;
    while (tracker->slots[slot] != EMPTY_SLOT &&
           !same_key(&tracker->connections[tracker->slots[slot]].key, key))
        slot = (slot + 1) & mask;
    return slot;
}

/* Doubles the hash table and re-inserts every current connection.  Only
 * the newest connection of a reused key is in the table (older ones stay in
 * the array for the summaries), so re-inserting in array order and letting
 * later entries overwrite earlier ones keeps exactly the newest. */
static int grow_slots(struct run_state *run)
{
    struct tracker *tracker = run->tracker;
    DWORD new_count = tracker->slot_count * 2;
    DWORD *fresh = try_resize(&run->host, NULL, (SIZE_T)new_count * sizeof(DWORD));
    if (fresh == NULL)
        return 0;
    if (!release(&run->host, tracker->slots)) {
        release(&run->host, fresh);
        return 0;
    }
    tracker->slots = fresh;
    tracker->slot_count = new_count;
    for (DWORD slot = 0; slot < new_count; slot++)
        fresh[slot] = EMPTY_SLOT;
    for (DWORD index = 0; index < tracker->connection_count; index++)
        fresh[find_slot(tracker, &tracker->connections[index].key)] = index;
    return 1;
}

static void init_flow(struct flow *flow)
{
    memset(flow, 0, sizeof(*flow));
    /* Wireshark starts every window at its maximum, so that no zero-window
     * probe is seen before the other side has sent a window at all. */
    flow->window = UINT32_MAX;
}

/*
 * Out of memory for the table: connections already known are still
 * analysed, new ones are only counted (untracked_segments).  Said once, as a
 * problem status that does not end the run.  Returns EMPTY_SLOT.
 */
static DWORD stop_adding_connections(struct run_state *run, DWORD frame_number)
{
    run->tracker->table_full = 1;
    if (!run->host.terminated) {
        char text[128];
        snprintf(text, sizeof(text), "out of memory at frame %lu: new connections are not analysed",
                 (unsigned long)frame_number + 1);
        report_problem(&run->host, PROBLEM_OUT_OF_MEMORY, text, NMERR_OUT_OF_MEMORY);
    }
    return EMPTY_SLOT;
}

/*
 * Adds a connection for key (a new one, or a new incarnation of a reused
 * key) and points the key's slot at it.  Returns its index, or EMPTY_SLOT
 * when memory ran out.
 */
static DWORD add_connection(struct run_state *run, const struct connection_key *key, DWORD frame_number)
{
    struct tracker *tracker = run->tracker;
    if (tracker->table_full || tracker->connection_count >= MAX_CONNECTIONS)
        return EMPTY_SLOT;
    /* Keep the load factor at most one half: linear probing stays short. */
    if ((tracker->connection_count + 1) * 2 > tracker->slot_count && !grow_slots(run))
        return stop_adding_connections(run, frame_number);
    if (tracker->connection_count == tracker->connection_capacity) {
        DWORD capacity = tracker->connection_capacity * 2;
        struct connection *grown =
            try_resize(&run->host, tracker->connections, (SIZE_T)capacity * sizeof(struct connection));
        if (grown == NULL)
            return stop_adding_connections(run, frame_number);
        tracker->connections = grown;
        tracker->connection_capacity = capacity;
    }
    DWORD index = tracker->connection_count++;
    struct connection *connection = &tracker->connections[index];
    memset(connection, 0, sizeof(*connection));
    /* memcpy, not assignment: the key's padding must stay zero for memcmp. */
    memcpy(&connection->key, key, sizeof(*key));
    connection->first_frame = frame_number;
    connection->client = -1;
    init_flow(&connection->flows[0]);
    init_flow(&connection->flows[1]);
    tracker->slots[find_slot(tracker, key)] = index;
    return index;
}

/* ------------------------------------------------------------------------ */
/* Segment history                                                          */
/* ------------------------------------------------------------------------ */

static void reverse_segments(struct sent_segment *segments, DWORD count)
{
    for (DWORD low = 0, high = count; low + 1 < high; low++, high--) {
        struct sent_segment swap = segments[low];
        segments[low] = segments[high - 1];
        segments[high - 1] = swap;
    }
}

static void remember_segment(struct run_state *run, struct flow *flow, DWORD frame, DWORD seq, DWORD end)
{
    if (flow->history_count == flow->history_capacity && flow->history_capacity < HISTORY_MAX) {
        DWORD capacity = flow->history_capacity == 0 ? HISTORY_INITIAL : flow->history_capacity * 2;
        struct sent_segment *grown =
            try_resize(&run->host, flow->history, (SIZE_T)capacity * sizeof(struct sent_segment));
        if (grown != NULL) {
            /* The full ring's oldest entry is at history_next.  Rotate it
             * to the front (three reversals), so that the entries are in
             * order and the new space follows the newest one. */
            DWORD count = flow->history_count;
            reverse_segments(grown, flow->history_next);
            reverse_segments(grown + flow->history_next, count - flow->history_next);
            reverse_segments(grown, count);
            flow->history = grown;
            flow->history_next = count;
            flow->history_capacity = capacity;
        }
    }
    /* Without memory for any history the "repeats" frame stays unknown;
     * with a full ring at its cap the oldest entry is overwritten. */
    if (flow->history_capacity == 0)
        return;
    struct sent_segment *slot = &flow->history[flow->history_next];
    slot->frame = frame;
    slot->seq = seq;
    slot->end = end;
    flow->history_next = (flow->history_next + 1) % flow->history_capacity;
    if (flow->history_count < flow->history_capacity)
        flow->history_count++;
}

/* The oldest remembered segment whose range holds seq: the original
 * transmission of the byte a retransmission starts with. */
static DWORD find_original(const struct flow *flow, DWORD seq)
{
    DWORD oldest = (flow->history_next + flow->history_capacity - flow->history_count) %
                   (flow->history_capacity == 0 ? 1 : flow->history_capacity);
    for (DWORD step = 0; step < flow->history_count; step++) {
        const struct sent_segment *segment = &flow->history[(oldest + step) % flow->history_capacity];
        if (fp_seq_le(segment->seq, seq) && fp_seq_lt(seq, segment->end))
            return segment->frame;
    }
    return INVALID_FRAME_NUMBER;
}

/* ------------------------------------------------------------------------ */
/* The analysis (Wireshark's tcp_analyze_sequence_number, reduced)          */
/* ------------------------------------------------------------------------ */

struct segment {
    DWORD frame;          /* 0-based */
    int64_t time;         /* microseconds since the capture's start */
    DWORD seq;
    DWORD ack;
    DWORD length;         /* payload bytes, from the IP lengths */
    WORD flags;
    DWORD window;         /* unscaled, as Wireshark compares it */
};

/* Elapsed time from then to now in nanoseconds, as the unsigned 64-bit
 * value Wireshark computes: a negative interval (timestamps going back)
 * wraps to a huge value and so is never "within" a window. */
static uint64_t elapsed_ns(int64_t now, int64_t then)
{
    return (uint64_t)(now - then) * NS_PER_US;
}

/*
 * Marks one segment from `fwd`'s sender; `rev` is the other direction.
 * Each rule is one of Wireshark's (docs/experts/tcpretrans.md lists them
 * with their order); the ones that only produce display flags (window
 * update, window full, zero window, lost segment, ACKed unseen segment) are
 * left out, except where their side effects feed a retransmission rule.
 */
static DWORD classify(struct connection *connection, struct flow *fwd, struct flow *rev,
                      const struct segment *segment)
{
    const WORD syn_fin_rst = FP_TCP_SYN | FP_TCP_FIN | FP_TCP_RST;
    DWORD marks = 0;
    DWORD seq = segment->seq;
    DWORD ack = segment->ack;
    DWORD length = segment->length;
    WORD flags = segment->flags;

    /* Relative sequence numbers start at the SYN, or one before the first
     * segment seen; the other side's start is learnt from its first ACK. */
    if (!fwd->base_seq_set) {
        fwd->base_seq = (flags & FP_TCP_SYN) ? seq : seq - 1;
        fwd->base_seq_set = 1;
    }
    if (!rev->base_seq_set && (flags & FP_TCP_ACK)) {
        rev->base_seq = ack - 1;
        rev->base_seq_set = 1;
    }

    /* Zero-window probe: one byte at the next expected sequence number while
     * the receiver advertises a zero window. */
    if (length == 1 && seq == fwd->next_seq && rev->window == 0) {
        marks |= MARK_ZERO_WINDOW_PROBE;
        goto acknowledgement_checked;
    }
    /* Keep-alive: zero or one byte starting one before the next expected
     * sequence number, without SYN, FIN or RST. */
    if (length <= 1 && seq == fwd->next_seq - 1 && (flags & syn_fin_rst) == 0)
        marks |= MARK_KEEP_ALIVE;

    int repeats_ack = length == 0 && segment->window == fwd->window && seq == fwd->next_seq &&
                      ack == fwd->last_ack && (flags & syn_fin_rst) == 0;
    /* An ACK answering a keep-alive or a zero-window probe repeats the
     * previous ACK, but is not a duplicate ACK. */
    if (repeats_ack && segment->window != 0 && (rev->last_segment_marks & MARK_KEEP_ALIVE))
        goto acknowledgement_checked;
    if (repeats_ack && segment->window == 0 && (rev->last_segment_marks & MARK_ZERO_WINDOW_PROBE))
        goto acknowledgement_checked;
    /* Duplicate ACK: no data, and the same window, sequence and ACK
     * numbers as this direction's previous segment. */
    if (repeats_ack && segment->window != 0) {
        fwd->duplicate_acks++;
        marks |= MARK_DUPLICATE_ACK;
    }

acknowledgement_checked:
    if (ack != fwd->last_ack)
        fwd->duplicate_acks = 0;
    /* An ACK beyond anything seen from the other side: segments were lost
     * before the capture point.  Wireshark then moves the other side's
     * in-order mark up to what it has seen, which later rules read. */
    if (rev->max_seq_to_be_acked != 0 && fp_seq_gt(ack, rev->max_seq_to_be_acked) &&
        (flags & FP_TCP_ACK))
        rev->max_seq_to_be_acked = rev->next_seq;

    /* Retransmission, fast retransmission, spurious retransmission or
     * out-of-order: a segment with data, SYN or FIN that does not go beyond
     * the highest sequence number this direction has sent. */
    if (length > 0 || (flags & (FP_TCP_SYN | FP_TCP_FIN))) {
        int seq_not_advanced = fwd->next_seq != 0 && fp_seq_lt(seq, fwd->next_seq);
        if (marks & MARK_KEEP_ALIVE)
            goto retransmission_checked;
        /* More than one byte starting one before the next expected number
         * follows a zero-window probe: it carries new data. */
        if (length > 1 && fwd->next_seq - 1 == seq)
            seq_not_advanced = 0;

        /* Spurious retransmission: every byte of it was already
         * acknowledged by the other side.  Checked first: it supersedes
         * the other kinds and out-of-order. */
        if (length > 0 && rev->last_ack != 0 && fp_seq_le(seq + length, rev->last_ack)) {
            marks |= MARK_SPURIOUS_RETRANSMISSION;
            goto retransmission_checked;
        }

        /* Fast retransmission: the receiver sent two or more duplicate ACKs
         * for exactly this sequence number, the last within 20 ms. */
        if (seq_not_advanced && rev->duplicate_acks >= 2 && rev->last_ack == seq &&
            elapsed_ns(segment->time, rev->last_ack_time) < FAST_RETRANSMISSION_WINDOW_NS) {
            marks |= MARK_FAST_RETRANSMISSION;
            goto retransmission_checked;
        }

        /* Out-of-order: it came within one round-trip time (or 3 ms) of the
         * segment that set the highest sequence number, and does not end
         * where that one did (SYN and FIN count one).  Not a
         * retransmission.  A negative RTT, from timestamps going back,
         * wraps to a huge window, as in Wireshark. */
        uint64_t window_ns = connection->first_rtt_known
                                 ? (uint64_t)connection->first_rtt * NS_PER_US
                                 : DEFAULT_OUT_OF_ORDER_WINDOW_NS;
        DWORD segment_end = seq + length + ((flags & (FP_TCP_SYN | FP_TCP_FIN)) ? 1u : 0u);
        if (seq_not_advanced && elapsed_ns(segment->time, fwd->next_seq_time) < window_ns &&
            fwd->next_seq != segment_end) {
            marks |= MARK_OUT_OF_ORDER;
            goto retransmission_checked;
        }

        if (seq_not_advanced)
            marks |= MARK_RETRANSMISSION;
    }

retransmission_checked:;
    /* SYN and FIN each take one sequence number. */
    DWORD next_seq = seq + length + ((flags & (FP_TCP_SYN | FP_TCP_FIN)) ? 1u : 0u);
    /* A zero-window probe's byte is not really sent yet. */
    if ((fp_seq_gt(next_seq, fwd->next_seq) || fwd->next_seq == 0) &&
        !(marks & MARK_ZERO_WINDOW_PROBE)) {
        fwd->next_seq = next_seq;
        fwd->next_seq_time = segment->time;
    }
    if ((seq == fwd->max_seq_to_be_acked || fwd->max_seq_to_be_acked == 0) &&
        !(marks & MARK_ZERO_WINDOW_PROBE))
        fwd->max_seq_to_be_acked = fwd->next_seq;

    fwd->window = segment->window;
    fwd->last_ack = ack;
    fwd->last_ack_time = segment->time;
    fwd->last_segment_marks = marks;
    return marks;
}

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

static void set_frame_column(NMCOLUMNINFO *column, char *name, DWORD frame)
{
    column->szColumnName = name;
    column->VariantData.Type = NMCOLUMNTYPE_FRAME;
    column->VariantData.Value.FrameVal = frame;
}

static void prepare_event(NMEVENTDATA *event, DWORD ident, DWORD severity, char *event_name,
                          char *description)
{
    memset(event, 0, sizeof(*event) + (EVENT_COLUMNS - 1) * sizeof(NMCOLUMNINFO));
    event->Version = 0;
    event->EventIdent = ident;
    event->Flags = NMEVENTFLAG_EXPERT;
    event->Severity = severity;
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

/* "a:port -> b:port", from endpoint `from` to the other one. */
static void describe_direction(const struct connection *connection, int from, char *out, size_t size)
{
    char source[FP_ENDPOINT_TEXT_SIZE], destination[FP_ENDPOINT_TEXT_SIZE];
    const struct connection_key *key = &connection->key;
    fp_format_endpoint(key->address[from], key->address_length, key->port[from], source, sizeof(source));
    fp_format_endpoint(key->address[1 - from], key->address_length, key->port[1 - from], destination,
                       sizeof(destination));
    snprintf(out, size, "%s -> %s", source, destination);
}

static int submit_retransmission(struct run_state *run, const struct connection *connection, int sender,
                                 const struct segment *segment, enum retransmission_kind kind,
                                 DWORD original)
{
    static char event_names[KIND_COUNT][32] = {"Retransmission", "Fast retransmission",
                                               "Spurious retransmission"};
    const struct flow *flow = &connection->flows[sender];
    char direction[2 * FP_ENDPOINT_TEXT_SIZE + 8];
    char original_text[64];
    char description[320];
    DWORD relative_seq = segment->seq - flow->base_seq;

    describe_direction(connection, sender, direction, sizeof(direction));
    if (original != INVALID_FRAME_NUMBER)
        snprintf(original_text, sizeof(original_text), "repeats frame %lu",
                 (unsigned long)original + 1);
    else
        snprintf(original_text, sizeof(original_text), "original not in the capture");
    snprintf(description, sizeof(description),
             "[%s] %s, seq %lu (raw %lu), %lu %s%s%s; %s", kind_tags[kind], direction,
             (unsigned long)relative_seq, (unsigned long)segment->seq, (unsigned long)segment->length,
             segment->length == 1 ? "byte" : "bytes", (segment->flags & FP_TCP_SYN) ? ", SYN" : "",
             (segment->flags & FP_TCP_FIN) ? ", FIN" : "", original_text);

    prepare_event(run->event, EVENT_IDENT_RETRANSMISSION, NMEVENT_SEVERITY_WARNING, event_names[kind],
                  description);
    NMCOLUMNINFO *columns = run->event->Column;
    set_frame_column(&columns[0], column_frame, segment->frame);
    set_frame_column(&columns[1], column_repeats, original);
    set_string_column(&columns[2], column_connection, direction);
    set_uint32_column(&columns[3], column_seq, relative_seq);
    set_uint32_column(&columns[4], column_length, segment->length);
    set_string_column(&columns[5], column_kind, kind_names[kind]);
    run->event->NumColumns = 6;
    return submit(run, "a retransmission");
}

static uint64_t total_retransmissions(const struct flow *flow)
{
    uint64_t total = 0;
    for (int kind = 0; kind < KIND_COUNT; kind++)
        total += flow->retransmissions[kind];
    return total;
}

static int submit_connection_summary(struct run_state *run, const struct connection *connection)
{
    static char event_name[] = "Connection summary";
    const struct flow *flows = connection->flows;
    uint64_t by_kind[KIND_COUNT];
    for (int kind = 0; kind < KIND_COUNT; kind++)
        by_kind[kind] = (uint64_t)flows[0].retransmissions[kind] + flows[1].retransmissions[kind];
    uint64_t retransmissions = total_retransmissions(&flows[0]) + total_retransmissions(&flows[1]);
    uint64_t retransmitted_bytes = flows[0].retransmitted_bytes + flows[1].retransmitted_bytes;
    uint64_t segments = (uint64_t)flows[0].segments + flows[1].segments;
    uint64_t payload_bytes = flows[0].payload_bytes + flows[1].payload_bytes;
    double percent = segments == 0 ? 0.0 : (double)retransmissions * 100.0 / (double)segments;

    /* Named from the client when the handshake says who that is. */
    char direction[2 * FP_ENDPOINT_TEXT_SIZE + 8];
    describe_direction(connection, connection->client >= 0 ? connection->client : 0, direction,
                       sizeof(direction));
    char description[400];
    snprintf(description, sizeof(description),
             "%s: %llu of %llu segments retransmitted (%.1f%%; %llu fast, %llu spurious), "
             "%llu of %llu payload bytes",
             direction, (unsigned long long)retransmissions, (unsigned long long)segments, percent,
             (unsigned long long)by_kind[KIND_FAST], (unsigned long long)by_kind[KIND_SPURIOUS],
             (unsigned long long)retransmitted_bytes, (unsigned long long)payload_bytes);

    prepare_event(run->event, EVENT_IDENT_CONNECTION_SUMMARY, NMEVENT_SEVERITY_INFORMATIONAL, event_name,
                  description);
    NMCOLUMNINFO *columns = run->event->Column;
    set_string_column(&columns[0], column_connection, direction);
    set_uint32_column(&columns[1], column_retransmissions, retransmissions);
    set_uint32_column(&columns[2], column_fast, by_kind[KIND_FAST]);
    set_uint32_column(&columns[3], column_spurious, by_kind[KIND_SPURIOUS]);
    /* Bytes can pass 4 GiB in a long capture; a double is exact to 2^53. */
    set_float64_column(&columns[4], column_retransmitted_bytes, (double)retransmitted_bytes);
    set_uint32_column(&columns[5], column_segments, segments);
    set_float64_column(&columns[6], column_payload_bytes, (double)payload_bytes);
    set_float64_column(&columns[7], column_retransmitted_percent, percent);
    set_frame_column(&columns[8], column_first_frame, connection->first_frame);
    run->event->NumColumns = 9;
    return submit(run, "a connection summary");
}

static int submit_capture_summary(struct run_state *run)
{
    static char event_name[] = "Summary";
    const struct tracker *tracker = run->tracker;
    uint64_t affected = 0, retransmitted_bytes = 0, by_kind[KIND_COUNT] = {0};
    for (DWORD index = 0; index < tracker->connection_count; index++) {
        const struct connection *connection = &tracker->connections[index];
        uint64_t count = 0;
        for (int side = 0; side < 2; side++) {
            for (int kind = 0; kind < KIND_COUNT; kind++)
                by_kind[kind] += connection->flows[side].retransmissions[kind];
            count += total_retransmissions(&connection->flows[side]);
            retransmitted_bytes += connection->flows[side].retransmitted_bytes;
        }
        affected += count != 0;
    }
    uint64_t retransmissions = by_kind[KIND_RETRANSMISSION] + by_kind[KIND_FAST] + by_kind[KIND_SPURIOUS];

    char description[400];
    int written = snprintf(description, sizeof(description),
                           "%llu retransmitted segments (%llu fast, %llu spurious), %llu bytes, in %llu of "
                           "%lu TCP connections",
                           (unsigned long long)retransmissions, (unsigned long long)by_kind[KIND_FAST],
                           (unsigned long long)by_kind[KIND_SPURIOUS],
                           (unsigned long long)retransmitted_bytes, (unsigned long long)affected,
                           (unsigned long)tracker->connection_count);
    if (written > 0 && (size_t)written < sizeof(description) && !fp_link_type_supported(run->link_type))
        snprintf(description + written, sizeof(description) - (size_t)written,
                 "; link type %lu is not supported: no frame was read", (unsigned long)run->link_type);
    else if (written > 0 && (size_t)written < sizeof(description) && tracker->untracked_segments != 0)
        snprintf(description + written, sizeof(description) - (size_t)written,
                 "; out of memory: %llu segments of later connections not analysed",
                 (unsigned long long)tracker->untracked_segments);
    else if (written > 0 && (size_t)written < sizeof(description) && tracker->skipped_fragments != 0)
        snprintf(description + written, sizeof(description) - (size_t)written,
                 "; %llu TCP segments in IP fragments not analysed",
                 (unsigned long long)tracker->skipped_fragments);

    prepare_event(run->event, EVENT_IDENT_CAPTURE_SUMMARY, NMEVENT_SEVERITY_INFORMATIONAL, event_name,
                  description);
    NMCOLUMNINFO *columns = run->event->Column;
    set_uint32_column(&columns[0], column_connections, tracker->connection_count);
    set_uint32_column(&columns[1], column_affected, affected);
    set_uint32_column(&columns[2], column_retransmissions, retransmissions);
    set_uint32_column(&columns[3], column_fast, by_kind[KIND_FAST]);
    set_uint32_column(&columns[4], column_spurious, by_kind[KIND_SPURIOUS]);
    set_float64_column(&columns[5], column_retransmitted_bytes, (double)retransmitted_bytes);
    set_uint32_column(&columns[6], column_untracked, tracker->untracked_segments);
    run->event->NumColumns = 7;
    return submit(run, "the summary");
}

static BOOL submit_summaries(struct run_state *run)
{
    const struct tracker *tracker = run->tracker;
    for (DWORD index = 0; index < tracker->connection_count; index++) {
        const struct connection *connection = &tracker->connections[index];
        if (total_retransmissions(&connection->flows[0]) + total_retransmissions(&connection->flows[1]) ==
            0)
            continue;
        if (!submit_connection_summary(run, connection))
            return FALSE;
    }
    return submit_capture_summary(run);
}

/* ------------------------------------------------------------------------ */
/* One frame                                                                */
/* ------------------------------------------------------------------------ */

/* Returns 0 when the run must stop. */
static int analyse_frame(struct run_state *run, const EXPERTFRAMEDESCRIPTOR *descriptor)
{
    const FRAME *frame = descriptor->pFrame;
    struct fp_packet packet;
    if (frame == NULL ||
        fp_parse_frame(run->link_type, frame->MacFrame, frame->nBytesAvail, frame->FrameLength, &packet) !=
            FP_LAYER_TRANSPORT ||
        packet.transport != FP_TRANSPORT_TCP)
        return 1;
    struct tracker *tracker = run->tracker;
    /* A segment in IP fragments has no length of its own until the
     * datagram is reassembled, which this expert does not do. */
    if (packet.is_fragment) {
        tracker->skipped_fragments++;
        return 1;
    }

    struct segment segment = {
        .frame = descriptor->FrameNumber,
        .time = frame->TimeStamp,
        .seq = packet.tcp_sequence,
        .ack = packet.tcp_acknowledgement,
        .length = packet.payload_length,
        .flags = packet.tcp_flags,
        .window = packet.tcp_window,
    };
    struct connection_key key;
    int sender = make_key(&packet, &key);
    DWORD index = tracker->slots[find_slot(tracker, &key)];
    if (index == EMPTY_SLOT) {
        index = add_connection(run, &key, segment.frame);
    } else {
        /* A SYN with a new initial sequence number on a known address and
         * port pair starts a new connection (Wireshark: "ports reused"). */
        const struct flow *flow = &tracker->connections[index].flows[sender];
        if ((segment.flags & (FP_TCP_SYN | FP_TCP_ACK)) == FP_TCP_SYN && flow->base_seq_set &&
            segment.seq != flow->base_seq)
            index = add_connection(run, &key, segment.frame);
    }
    if (run->host.terminated)
        return 0;
    if (index == EMPTY_SLOT) {
        tracker->untracked_segments++;
        return 1;
    }

    struct connection *connection = &tracker->connections[index];
    struct flow *fwd = &connection->flows[sender];
    struct flow *rev = &connection->flows[1 - sender];
    DWORD marks = classify(connection, fwd, rev, &segment);

    /* After the analysis, as Wireshark does: the handshake's round-trip
     * time, from the last SYN to the first pure ACK after it. */
    if ((segment.flags & (FP_TCP_SYN | FP_TCP_ACK)) == FP_TCP_SYN) {
        connection->syn_time = segment.time;
        connection->syn_seen = 1;
        connection->client = (signed char)sender;
    } else if ((segment.flags & (FP_TCP_SYN | FP_TCP_ACK)) == FP_TCP_ACK && connection->syn_seen &&
               !connection->first_rtt_known) {
        connection->first_rtt = segment.time - connection->syn_time;
        /* Wireshark keeps an RTT of exactly zero as "not known yet". */
        connection->first_rtt_known = connection->first_rtt != 0;
    }

    int sends_sequence = segment.length > 0 || (segment.flags & (FP_TCP_SYN | FP_TCP_FIN));
    enum retransmission_kind kind = KIND_COUNT;
    if (marks & MARK_FAST_RETRANSMISSION)
        kind = KIND_FAST;
    else if (marks & MARK_SPURIOUS_RETRANSMISSION)
        kind = KIND_SPURIOUS;
    else if (marks & MARK_RETRANSMISSION)
        kind = KIND_RETRANSMISSION;

    DWORD original = INVALID_FRAME_NUMBER;
    if (kind != KIND_COUNT)
        original = find_original(fwd, segment.seq);
    if (sends_sequence) {
        DWORD end = segment.seq + segment.length + ((segment.flags & (FP_TCP_SYN | FP_TCP_FIN)) ? 1u : 0u);
        remember_segment(run, fwd, segment.frame, segment.seq, end);
        if (run->host.terminated)
            return 0;
        fwd->segments++;
        fwd->payload_bytes += segment.length;
    }
    if (kind == KIND_COUNT)
        return 1;
    fwd->retransmissions[kind]++;
    fwd->retransmitted_bytes += segment.length;
    return submit_retransmission(run, connection, sender, &segment, kind, original);
}

/* ------------------------------------------------------------------------ */
/* The frame loop                                                           */
/* ------------------------------------------------------------------------ */

/*
 * Honour the display filter the analyst gave the host (--filter), as the
 * SDK's boilerplate expert does.  A filter that drops some segments of a
 * connection changes what looks retransmitted; the doc warns about it.
 */
#define FRAME_REQUEST_FLAGS FLAGS_DEFER_TO_UI_FILTER

static BOOL analyse_all_frames(struct run_state *run)
{
    struct frame_walk walk;
    frame_walk_begin(&walk, run->capture, FRAME_REQUEST_FLAGS);
    int got;
    while ((got = frame_walk_next(&run->host, &walk)) > 0) {
        if (!analyse_frame(run, &walk.descriptor))
            return FALSE;
        if (!frame_walk_progress(&run->host, &walk))
            return FALSE;
    }
    return got == 0;
}

static int create_tracker(struct run_state *run)
{
    run->tracker = allocate(&run->host, sizeof(*run->tracker), "no memory for the connection table");
    if (run->tracker == NULL)
        return 0;
    /* The host's zero-filling is not part of the reference API. */
    memset(run->tracker, 0, sizeof(*run->tracker));
    struct tracker *tracker = run->tracker;
    tracker->connections =
        allocate(&run->host, INITIAL_CONNECTIONS * sizeof(struct connection), "no memory for the connection table");
    tracker->slots = allocate(&run->host, INITIAL_SLOTS * sizeof(DWORD), "no memory for the connection table");
    if (tracker->connections == NULL || tracker->slots == NULL)
        return 0;
    tracker->connection_capacity = INITIAL_CONNECTIONS;
    tracker->slot_count = INITIAL_SLOTS;
    for (DWORD slot = 0; slot < INITIAL_SLOTS; slot++)
        tracker->slots[slot] = EMPTY_SLOT;
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
             "Finds retransmitted TCP segments (retransmissions, fast and spurious "
             "retransmissions, as Wireshark classifies them) and sums them up per connection.");
    pExpertInfo->Version = 0;
    pExpertInfo->Flags = 0;
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY hExpertKey, PEXPERTCONFIG pConfig, PEXPERTSTARTUPINFO pExpertStartupInfo,
                DWORD StartupFlags, HWND hWndParent)
{
    /* Not configurable, and the whole capture is analysed whatever had the
     * focus: of the startup data only the capture handle is used. */
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
    if (run.event == NULL || !create_tracker(&run))
        return finish(&run, FALSE);

    if (!report_progress(&run.host, EXPERTSTATUS_RUNNING, 0))
        return finish(&run, FALSE);
    /* A capture of a link type the parser does not know is not read at
     * all: its frames would only be misparsed.  The summary says so. */
    if (fp_link_type_supported(run.link_type) && !analyse_all_frames(&run))
        return finish(&run, FALSE);
    if (!submit_summaries(&run))
        return finish(&run, FALSE);
    /* Progress reports after the first out-of-memory problem replaced it as
     * the last status; say it again so that the outcome tells the analyst
     * that the results are incomplete. */
    if (run.tracker->table_full)
        report_problem(&run.host, PROBLEM_OUT_OF_MEMORY, "out of memory: some connections were not analysed",
                       NMERR_OUT_OF_MEMORY);
    return finish(&run, TRUE);
}
