/*
 * resptime.c - "Average Server Response Time", a summary expert.
 *
 * For every TCP server (address and port) in the capture, measures how long
 * it takes to answer its clients: from a client's request (new data from
 * client to server) to the server's first new data after it.  Then it
 * submits one event per server with the number of requests and the
 * average, minimum and maximum response time in seconds, and a summary.
 * See docs/experts/resptime.md.
 *
 * NetMon's Resptime.dll measured SMB and user-chosen TCP ports and IPX
 * sockets; this one measures every TCP server, whatever the protocol, since
 * the request/response rhythm of TCP is visible without parsing the
 * application.
 *
 * Like protodist.c, it includes only netmon.h and the shared frameparse.h
 * and hostcalls.h,
 * takes its memory from ExpertAllocMemory/ExpertReallocMemory and checks
 * every helper's return value.  Frames are parsed by the capture's link
 * type (GetCaptureLinkType): Ethernet, Linux cooked, BSD loopback, raw IP.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "frameparse.h"
#include "hostcalls.h"
#include "netmon.h"

/* A port below this is "well known": when no handshake was seen, the side
 * with such a port is taken for the server. */
#define WELL_KNOWN_PORT_LIMIT 1024u

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */
/* ------------------------------------------------------------------------ */

/* One endpoint: an address and a port. */
struct endpoint {
    BYTE address_length;      /* 4 or 16 */
    BYTE address[16];
    WORD port;
};

/* A connection's endpoints in a fixed order, so that both directions find
 * the same entry: endpoint 0 is the lower (address, port). */
struct connection_key {
    struct endpoint endpoints[2];
};

enum server_side {
    SERVER_UNKNOWN = -1,      /* not decided yet */
    SERVER_UNDECIDABLE = -2,  /* no handshake and equal ports: not measured */
};

struct connection {
    struct connection_key key;
    DWORD next_seq[2];        /* highest seq + length each endpoint sent */
    BYTE seq_seen[2];         /* next_seq[i] is valid */
    signed char server;       /* endpoint index, or enum server_side */
    BYTE server_from_handshake;
    BYTE request_pending;     /* client data not yet answered */
    BYTE measured;            /* a response was timed on this connection */
    int64_t request_time;     /* last new client data before the answer, µs */
    DWORD server_index;       /* into the server table, EMPTY_SLOT until known */
};

struct server {
    struct endpoint endpoint;
    uint64_t requests;
    double total_seconds;
    double minimum_seconds;
    double maximum_seconds;
    DWORD slowest_frame;      /* the response frame of the maximum, 0-based */
    DWORD connections;        /* connections with at least one timed request */
};

/* Open-addressing hash table of indices into an array that only grows. */
struct index_table {
    DWORD *slots;
    DWORD slot_count;         /* a power of two */
};

struct state {
    struct connection *connections;
    DWORD connection_count;
    DWORD connection_capacity;
    struct index_table connection_slots;
    struct server *servers;
    DWORD server_count;
    DWORD server_capacity;
    struct index_table server_slots;
    int table_full;           /* memory ran out: new connections are not measured */
    uint64_t unmeasured_segments;
};

#define EMPTY_SLOT UINT32_MAX
#define INITIAL_ENTRIES 64u
#define INITIAL_SLOTS 128u
#define MAX_ENTRIES (UINT32_MAX / 4)

/* ------------------------------------------------------------------------ */
/* Talking to the host                                                      */
/* ------------------------------------------------------------------------ */

/* EXPERTSTATUS_PROBLEM sub-statuses, documented in docs/experts/resptime.md. */
enum problem {
    PROBLEM_FRAME_READ = EXPERT_PROBLEM_FRAME_READ,
    PROBLEM_OUT_OF_MEMORY = EXPERT_PROBLEM_OUT_OF_MEMORY,
    PROBLEM_SUBMIT = 3,
    PROBLEM_HOST_FRAME_ORDER = EXPERT_PROBLEM_HOST_FRAME_ORDER,
    PROBLEM_FREE = 5,
};

#define EVENT_COLUMNS 8
#define EVENT_IDENT_SERVER 1
#define EVENT_IDENT_SUMMARY 2

static char expert_name[] = "Average Server Response Time";
static char column_server[] = "Server";
static char column_port[] = "Port";
static char column_requests[] = "Requests";
static char column_average[] = "Average (s)";
static char column_minimum[] = "Minimum (s)";
static char column_maximum[] = "Maximum (s)";
static char column_connections[] = "Connections";
static char column_slowest_frame[] = "Slowest response frame";
static char column_servers[] = "Servers";

struct run_state {
    struct expert_host host;  /* key, terminated, status_broken */
    HCAPTURE capture;         /* from the startup information; may be NULL */
    DWORD link_type;          /* the capture's DLT_*, see frameparse.h */
    struct state *state;
    NMEVENTDATA *event;
};

/* Releases everything and gives Run's return value. */
static BOOL finish(struct run_state *run, BOOL succeeded)
{
    int freed = release(&run->host, run->event);
    if (run->state != NULL) {
        freed &= release(&run->host, run->state->connections);
        freed &= release(&run->host, run->state->connection_slots.slots);
        freed &= release(&run->host, run->state->servers);
        freed &= release(&run->host, run->state->server_slots.slots);
        freed &= release(&run->host, run->state);
    }
    run->event = NULL;
    run->state = NULL;
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
/* Hash tables                                                              */
/* ------------------------------------------------------------------------ */

/* FNV-1a: simple, and good enough for addresses and ports. */
static DWORD hash_bytes(const void *data, size_t length)
{
    const BYTE *bytes = data;
    DWORD hash = 2166136261u;
    for (size_t index = 0; index < length; index++)
        hash = (hash ^ bytes[index]) * 16777619u;
    return hash;
}

/*
 * Both tables key their entries by a plain struct whose padding is zeroed
 * (every key is built with memset first), so keys compare with memcmp.
 * key_of gives the key of the entry an index names.
 */
typedef const void *(*key_of_entry)(const struct state *state, DWORD index);

static const void *connection_key_of(const struct state *state, DWORD index)
{
    return &state->connections[index].key;
}

static const void *server_key_of(const struct state *state, DWORD index)
{
    return &state->servers[index].endpoint;
}

static DWORD find_slot(const struct state *state, const struct index_table *table, key_of_entry key_of,
                       const void *key, size_t key_size)
{
    DWORD mask = table->slot_count - 1;
    DWORD slot = hash_bytes(key, key_size) & mask;
    while (table->slots[slot] != EMPTY_SLOT &&
           memcmp(key_of(state, table->slots[slot]), key, key_size) != 0)
        slot = (slot + 1) & mask;
    return slot;
}

static int init_index_table(struct run_state *run, struct index_table *table)
{
    table->slots = allocate(&run->host, INITIAL_SLOTS * sizeof(DWORD), "no memory for the tables");
    if (table->slots == NULL)
        return 0;
    table->slot_count = INITIAL_SLOTS;
    for (DWORD slot = 0; slot < INITIAL_SLOTS; slot++)
        table->slots[slot] = EMPTY_SLOT;
    return 1;
}

/* Doubles a table when one more entry would load it past one half, and
 * re-inserts the entries.  Later entries overwrite earlier ones with the
 * same key, so a reused connection key maps to its newest entry. */
static int make_room(struct run_state *run, struct index_table *table, DWORD entries, key_of_entry key_of,
                     size_t key_size)
{
    if ((entries + 1) * 2 <= table->slot_count)
        return 1;
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
    for (DWORD index = 0; index < entries; index++)
        fresh[find_slot(run->state, table, key_of, key_of(run->state, index), key_size)] = index;
    return 1;
}

/* Grows an entry array (connections or servers) to hold one more. */
static int make_entry_room(struct run_state *run, void **entries, DWORD count, DWORD *capacity,
                           size_t entry_size)
{
    if (count < *capacity)
        return 1;
    if (count >= MAX_ENTRIES)
        return 0;
    void *grown = try_resize(&run->host, *entries, (SIZE_T)*capacity * 2 * entry_size);
    if (grown == NULL)
        return 0;
    *entries = grown;
    *capacity *= 2;
    return 1;
}

/* Memory ran out: known connections and servers are still measured, new
 * ones are not.  Reported once; the run goes on. */
static void stop_adding(struct run_state *run)
{
    if (!run->state->table_full && !run->host.terminated)
        report_problem(&run->host, PROBLEM_OUT_OF_MEMORY, "out of memory: new connections are not measured",
                       NMERR_OUT_OF_MEMORY);
    run->state->table_full = 1;
}

/* A new entry for key in the connection table; EMPTY_SLOT on failure. */
static DWORD add_connection(struct run_state *run, const struct connection_key *key)
{
    struct state *state = run->state;
    if (state->table_full)
        return EMPTY_SLOT;
    void *entries = state->connections;
    if (!make_room(run, &state->connection_slots, state->connection_count, connection_key_of, sizeof(*key)) ||
        !make_entry_room(run, &entries, state->connection_count, &state->connection_capacity,
                         sizeof(struct connection))) {
        stop_adding(run);
        return EMPTY_SLOT;
    }
    state->connections = entries;
    DWORD index = state->connection_count++;
    struct connection *connection = &state->connections[index];
    memset(connection, 0, sizeof(*connection));
    /* memcpy, not assignment: the key's padding must stay zero for memcmp. */
    memcpy(&connection->key, key, sizeof(*key));
    connection->server = SERVER_UNKNOWN;
    connection->server_index = EMPTY_SLOT;
    state->connection_slots.slots[find_slot(state, &state->connection_slots, connection_key_of, key,
                                            sizeof(*key))] = index;
    return index;
}

/* The server entry for an endpoint, added if new; EMPTY_SLOT on failure. */
static DWORD server_for(struct run_state *run, const struct endpoint *endpoint)
{
    struct state *state = run->state;
    DWORD slot = find_slot(state, &state->server_slots, server_key_of, endpoint, sizeof(*endpoint));
    if (state->server_slots.slots[slot] != EMPTY_SLOT)
        return state->server_slots.slots[slot];
    if (state->table_full)
        return EMPTY_SLOT;
    void *entries = state->servers;
    if (!make_room(run, &state->server_slots, state->server_count, server_key_of, sizeof(*endpoint)) ||
        !make_entry_room(run, &entries, state->server_count, &state->server_capacity, sizeof(struct server))) {
        stop_adding(run);
        return EMPTY_SLOT;
    }
    state->servers = entries;
    DWORD index = state->server_count++;
    struct server *server = &state->servers[index];
    memset(server, 0, sizeof(*server));
    /* memcpy, not assignment: the key's padding must stay zero for memcmp. */
    memcpy(&server->endpoint, endpoint, sizeof(*endpoint));
    state->server_slots.slots[find_slot(state, &state->server_slots, server_key_of, endpoint,
                                        sizeof(*endpoint))] = index;
    return index;
}

/* ------------------------------------------------------------------------ */
/* Measuring                                                                */
/* ------------------------------------------------------------------------ */

/* Orders the segment's endpoints; returns which of them sent it. */
static int make_key(const struct fp_packet *packet, struct connection_key *key)
{
    unsigned length = packet->ip_address_length;
    int order = memcmp(packet->source_ip, packet->destination_ip, length);
    if (order == 0)
        order = (int)packet->source_port - (int)packet->destination_port;
    int sender = order <= 0 ? 0 : 1;

    memset(key, 0, sizeof(*key));
    for (int side = 0; side < 2; side++)
        key->endpoints[side].address_length = (BYTE)length;
    memcpy(key->endpoints[sender].address, packet->source_ip, length);
    memcpy(key->endpoints[1 - sender].address, packet->destination_ip, length);
    key->endpoints[sender].port = packet->source_port;
    key->endpoints[1 - sender].port = packet->destination_port;
    return sender;
}

/*
 * Who the server is when no handshake was seen: the side with a
 * well-known port (below 1024) if only one has one, else the side with the
 * lower port, which is usually the one that did not pick an ephemeral port.
 */
static signed char server_from_ports(const struct connection_key *key)
{
    WORD ports[2] = {key->endpoints[0].port, key->endpoints[1].port};
    int well_known[2] = {ports[0] < WELL_KNOWN_PORT_LIMIT, ports[1] < WELL_KNOWN_PORT_LIMIT};
    if (well_known[0] != well_known[1])
        return well_known[0] ? 0 : 1;
    if (ports[0] == ports[1])
        return SERVER_UNDECIDABLE;
    return ports[0] < ports[1] ? 0 : 1;
}

static void record_response(struct run_state *run, struct connection *connection, int64_t response_time,
                            DWORD response_frame)
{
    if (connection->server_index == EMPTY_SLOT) {
        connection->server_index = server_for(run, &connection->key.endpoints[connection->server]);
        if (connection->server_index == EMPTY_SLOT)
            return;
    }
    struct server *server = &run->state->servers[connection->server_index];
    /* Timestamps that go backwards give a negative time; such a capture
     * was merged or reordered, and the sample says nothing about the
     * server, so it is left out. */
    if (response_time < connection->request_time)
        return;
    double seconds = (double)(response_time - connection->request_time) / 1e6;
    if (server->requests == 0 || seconds < server->minimum_seconds)
        server->minimum_seconds = seconds;
    if (server->requests == 0 || seconds > server->maximum_seconds) {
        server->maximum_seconds = seconds;
        server->slowest_frame = response_frame;
    }
    server->requests++;
    server->total_seconds += seconds;
    if (!connection->measured) {
        connection->measured = 1;
        server->connections++;
    }
}

static void analyse_frame(struct run_state *run, const EXPERTFRAMEDESCRIPTOR *descriptor)
{
    const FRAME *frame = descriptor->pFrame;
    struct fp_packet packet;
    if (frame == NULL ||
        fp_parse_frame(run->link_type, frame->MacFrame, frame->nBytesAvail, frame->FrameLength, &packet) !=
            FP_LAYER_TRANSPORT ||
        packet.transport != FP_TRANSPORT_TCP || packet.is_fragment)
        return;

    struct state *state = run->state;
    struct connection_key key;
    int sender = make_key(&packet, &key);
    WORD handshake = packet.tcp_flags & (FP_TCP_SYN | FP_TCP_ACK);
    DWORD index = state->connection_slots.slots[find_slot(state, &state->connection_slots,
                                                          connection_key_of, &key, sizeof(key))];
    if (index == EMPTY_SLOT) {
        index = add_connection(run, &key);
        if (index == EMPTY_SLOT) {
            state->unmeasured_segments++;
            return;
        }
    } else if (handshake == FP_TCP_SYN && state->connections[index].seq_seen[sender] &&
               packet.tcp_sequence + 1 != state->connections[index].next_seq[sender]) {
        /* A SYN that is not a repeat of this one's: the ports were reused
         * by a new connection, possibly to the other side's server. */
        DWORD fresh = add_connection(run, &key);
        if (fresh == EMPTY_SLOT) {
            state->unmeasured_segments++;
            return;
        }
        index = fresh;
    }
    struct connection *connection = &state->connections[index];

    /* The handshake names the server: the SYN-ACK's sender, or else the
     * SYN's receiver.  A SYN-ACK wins over a SYN (simultaneous open). */
    if (handshake == (FP_TCP_SYN | FP_TCP_ACK)) {
        connection->server = (signed char)sender;
        connection->server_from_handshake = 1;
    } else if (handshake == FP_TCP_SYN && !connection->server_from_handshake) {
        connection->server = (signed char)(1 - sender);
        connection->server_from_handshake = 1;
    }

    /* Only data that goes beyond what this side already sent is a request
     * or a response: a retransmission repeats one already counted.  SYN and
     * FIN take a sequence number each. */
    DWORD length = packet.payload_length;
    DWORD end = packet.tcp_sequence + length + ((packet.tcp_flags & (FP_TCP_SYN | FP_TCP_FIN)) ? 1u : 0u);
    int new_data = length > 0 && (!connection->seq_seen[sender] ||
                                  fp_seq_gt(end, connection->next_seq[sender]));
    if (!connection->seq_seen[sender] || fp_seq_gt(end, connection->next_seq[sender])) {
        connection->next_seq[sender] = end;
        connection->seq_seen[sender] = 1;
    }
    if (!new_data)
        return;

    if (connection->server == SERVER_UNKNOWN)
        connection->server = server_from_ports(&connection->key);
    if (connection->server == SERVER_UNDECIDABLE)
        return;
    if (sender != connection->server) {
        /* A request that spans several segments is timed from its last
         * one: the server cannot answer before it has all of it. */
        connection->request_pending = 1;
        connection->request_time = frame->TimeStamp;
    } else if (connection->request_pending) {
        connection->request_pending = 0;
        record_response(run, connection, frame->TimeStamp, descriptor->FrameNumber);
    }
}

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

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

static double average_of(const struct server *server)
{
    return server->requests == 0 ? 0.0 : server->total_seconds / (double)server->requests;
}

/* Slowest servers first; then by address and port, so that the order is
 * the same on every run. */
static int server_precedes(const struct server *left, const struct server *right)
{
    double left_average = average_of(left), right_average = average_of(right);
    if (left_average != right_average)
        return left_average > right_average;
    if (left->endpoint.address_length != right->endpoint.address_length)
        return left->endpoint.address_length < right->endpoint.address_length;
    int order = memcmp(left->endpoint.address, right->endpoint.address, sizeof(left->endpoint.address));
    if (order != 0)
        return order < 0;
    return left->endpoint.port < right->endpoint.port;
}

/* Insertion sort in place, as protodist does: qsort may allocate. */
static void sort_servers(struct state *state)
{
    for (DWORD sorted = 1; sorted < state->server_count; sorted++) {
        struct server moving = state->servers[sorted];
        DWORD slot = sorted;
        while (slot > 0 && server_precedes(&moving, &state->servers[slot - 1])) {
            state->servers[slot] = state->servers[slot - 1];
            slot--;
        }
        state->servers[slot] = moving;
    }
}

static int submit_server(struct run_state *run, const struct server *server)
{
    static char event_name[] = "Server response time";
    char address_text[FP_IP_TEXT_SIZE];
    char endpoint_text[FP_ENDPOINT_TEXT_SIZE];
    char description[256];
    const struct endpoint *endpoint = &server->endpoint;
    double average = average_of(server);
    fp_format_ip(endpoint->address, endpoint->address_length, address_text, sizeof(address_text));
    fp_format_endpoint(endpoint->address, endpoint->address_length, endpoint->port, endpoint_text,
                       sizeof(endpoint_text));
    snprintf(description, sizeof(description),
             "%s answered %llu %s in %.6f s on average (%.6f s to %.6f s), over %lu %s", endpoint_text,
             (unsigned long long)server->requests, server->requests == 1 ? "request" : "requests", average,
             server->minimum_seconds, server->maximum_seconds, (unsigned long)server->connections,
             server->connections == 1 ? "connection" : "connections");

    prepare_event(run->event, EVENT_IDENT_SERVER, event_name, description);
    NMCOLUMNINFO *columns = run->event->Column;
    columns[0].szColumnName = column_server;
    if (endpoint->address_length == 4) {
        columns[0].VariantData.Type = NMCOLUMNTYPE_IPADDR;
        /* The DWORD holds the address as stored in the frame. */
        memcpy(&columns[0].VariantData.Value.IPAddrVal, endpoint->address, 4);
    } else {
        /* The API has no IPv6 column type. */
        columns[0].VariantData.Type = NMCOLUMNTYPE_STRING;
        columns[0].VariantData.Value.pStringVal = address_text;
    }
    columns[1].szColumnName = column_port;
    columns[1].VariantData.Type = NMCOLUMNTYPE_UINT16;
    columns[1].VariantData.Value.Uint16Val = endpoint->port;
    set_uint32_column(&columns[2], column_requests, server->requests);
    set_float64_column(&columns[3], column_average, average);
    set_float64_column(&columns[4], column_minimum, server->minimum_seconds);
    set_float64_column(&columns[5], column_maximum, server->maximum_seconds);
    set_uint32_column(&columns[6], column_connections, server->connections);
    columns[7].szColumnName = column_slowest_frame;
    columns[7].VariantData.Type = NMCOLUMNTYPE_FRAME;
    columns[7].VariantData.Value.FrameVal = server->slowest_frame;
    run->event->NumColumns = 8;
    return submit(run, endpoint_text);
}

static int submit_summary(struct run_state *run)
{
    static char event_name[] = "Summary";
    const struct state *state = run->state;
    uint64_t requests = 0;
    double total_seconds = 0.0;
    DWORD servers = 0;
    for (DWORD index = 0; index < state->server_count; index++) {
        requests += state->servers[index].requests;
        total_seconds += state->servers[index].total_seconds;
        servers += state->servers[index].requests != 0;
    }
    double average = requests == 0 ? 0.0 : total_seconds / (double)requests;
    char description[256];
    int written = snprintf(description, sizeof(description),
                           "%lu TCP %s answered %llu %s in %.6f s on average", (unsigned long)servers,
                           servers == 1 ? "server" : "servers", (unsigned long long)requests,
                           requests == 1 ? "request" : "requests", average);
    if (!fp_link_type_supported(run->link_type) && written > 0 && (size_t)written < sizeof(description))
        snprintf(description + written, sizeof(description) - (size_t)written,
                 "; link type %lu is not supported: no frame was read", (unsigned long)run->link_type);
    else if (state->unmeasured_segments != 0 && written > 0 && (size_t)written < sizeof(description))
        snprintf(description + written, sizeof(description) - (size_t)written,
                 "; out of memory: %llu segments of later connections not measured",
                 (unsigned long long)state->unmeasured_segments);

    prepare_event(run->event, EVENT_IDENT_SUMMARY, event_name, description);
    NMCOLUMNINFO *columns = run->event->Column;
    set_uint32_column(&columns[0], column_servers, servers);
    set_uint32_column(&columns[1], column_requests, requests);
    set_float64_column(&columns[2], column_average, average);
    run->event->NumColumns = 3;
    return submit(run, "the summary");
}

static BOOL submit_all_events(struct run_state *run)
{
    struct state *state = run->state;
    /* Sorting moves servers, so the server table's indices are stale from
     * here on; nothing looks them up any more. */
    sort_servers(state);
    for (DWORD index = 0; index < state->server_count; index++) {
        if (state->servers[index].requests == 0)
            continue;
        if (!submit_server(run, &state->servers[index]))
            return FALSE;
    }
    return submit_summary(run);
}

/* ------------------------------------------------------------------------ */
/* The frame loop                                                           */
/* ------------------------------------------------------------------------ */

/* Honour the display filter the analyst gave the host (--filter), e.g.
 * 'tcp port 80' for the web servers only. */
#define FRAME_REQUEST_FLAGS FLAGS_DEFER_TO_UI_FILTER

static BOOL analyse_all_frames(struct run_state *run)
{
    struct frame_walk walk;
    frame_walk_begin(&walk, run->capture, FRAME_REQUEST_FLAGS);
    int got;
    while ((got = frame_walk_next(&run->host, &walk)) > 0) {
        analyse_frame(run, &walk.descriptor);
        if (!frame_walk_progress(&run->host, &walk))
            return FALSE;
    }
    return got == 0;
}

static int create_state(struct run_state *run)
{
    run->state = allocate(&run->host, sizeof(*run->state), "no memory for the tables");
    if (run->state == NULL)
        return 0;
    /* The host's zero-filling is not part of the reference API. */
    memset(run->state, 0, sizeof(*run->state));
    struct state *state = run->state;
    state->connections = allocate(&run->host, INITIAL_ENTRIES * sizeof(struct connection), "no memory for the tables");
    state->servers = allocate(&run->host, INITIAL_ENTRIES * sizeof(struct server), "no memory for the tables");
    if (state->connections == NULL || state->servers == NULL)
        return 0;
    state->connection_capacity = INITIAL_ENTRIES;
    state->server_capacity = INITIAL_ENTRIES;
    return init_index_table(run, &state->connection_slots) && init_index_table(run, &state->server_slots);
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
             "Time TCP servers take to answer their clients' requests: average, minimum and "
             "maximum per server address and port.");
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
    if (run.event == NULL || !create_state(&run))
        return finish(&run, FALSE);

    if (!report_progress(&run.host, EXPERTSTATUS_RUNNING, 0))
        return finish(&run, FALSE);
    /* A capture of a link type the parser does not know is not read at
     * all: its frames would only be misparsed.  The summary says so. */
    if (fp_link_type_supported(run.link_type) && !analyse_all_frames(&run))
        return finish(&run, FALSE);
    if (!submit_all_events(&run))
        return finish(&run, FALSE);
    /* Progress reports may have replaced the out-of-memory problem as the
     * last status: say it again, the results are incomplete. */
    if (run.state->table_full)
        report_problem(&run.host, PROBLEM_OUT_OF_MEMORY, "out of memory: some connections were not measured",
                       NMERR_OUT_OF_MEMORY);
    return finish(&run, TRUE);
}
