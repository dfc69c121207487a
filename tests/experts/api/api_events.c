/*
 * api_events - ExpertSubmitEvent with every field and every column type at
 * its edges.  The test compares the JSON (and the text format) value by value.
 *
 * Events, in this order (seq 1..17):
 *    1  "All types"     every NMCOLUMNTYPE with edge values, every NMEVENTDATA
 *                       field set, severity and machine hidden
 *  2-8  "Severity"      Severity 0, 1, 2, 3, 4, 5, 99; EventIdent 100 + Severity
 *    9  "Hidden all"    NMEVENTFLAG_DO_NOT_DISPLAY_FIXED_COLUMNS
 *   10  (no name)       EventIdent 10, every string NULL, SysTime zero
 *   11  "Odd time"      SysTime fields out of their ranges
 *   12  "Copy"          EventIdent 12, texts "before"/"first" ...
 *   13  "Copy"          ... then the same buffers rewritten to "after"/"second"
 *   14  "Wide"          255 columns with 300-byte names and 2000-byte values,
 *                       a 10000-byte description: cut, "truncated":true
 *   15  "Many columns"  255 small UINT8 columns: they all fit
 *   16  "Long fields"   source 300, machine 261, justification 9000 bytes
 *   17  "Exact limits"  source 260, description 8192, a 1024-byte STRING:
 *                       nothing to cut
 * Then one more, "submitted", with rc0..rc16: what each submit returned.
 */
#include <math.h>

#include "api_report.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    report_register(info, "API events", "Every NMEVENTDATA field and column type");
    return TRUE;
}

#define MAX_SUBMITS 17
static DWORD submitted[MAX_SUBMITS];
static DWORD submits;

static void submit(HEXPERTKEY key, PNMEVENTDATA event)
{
    DWORD rc = ExpertSubmitEvent(key, event);
    if (submits < MAX_SUBMITS)
        submitted[submits++] = rc;
}

static PNMEVENTDATA new_event(HEXPERTKEY key, size_t columns)
{
    size_t extra = columns > 1 ? columns - 1 : 0;
    return ExpertAllocMemory(key, sizeof(NMEVENTDATA) + extra * sizeof(NMCOLUMNINFO), NULL);
}

static NMCOLUMNINFO *column(PNMEVENTDATA event, const char *name, NMCOLUMNTYPE type)
{
    NMCOLUMNINFO *c = &event->Column[event->NumColumns++];
    c->szColumnName = (LPSTR)name;
    c->VariantData.Type = type;
    return c;
}

static char *filled(HEXPERTKEY key, size_t len, char fill)
{
    char *text = ExpertAllocMemory(key, len + 1, NULL);
    if (text)
        memset(text, fill, len);
    return text;
}

#define ALL_TYPES_COLUMNS 46

static void all_types(HEXPERTKEY key)
{
    PNMEVENTDATA e = new_event(key, ALL_TYPES_COLUMNS);
    if (!e)
        return;
    e->pszReserved = (LPSTR) "reserved";
    e->Version = 7;
    e->EventIdent = 4242;
    e->Flags = NMEVENTFLAG_EXPERT | NMEVENTFLAG_DO_NOT_DISPLAY_SEVERITY | NMEVENTFLAG_DO_NOT_DISPLAY_MACHINE;
    e->Severity = NMEVENT_SEVERITY_STRONG_WARNING;
    e->szSourceName = (LPSTR) "Source \xe2\x9c\x93";
    e->szEventName = (LPSTR) "All types";
    e->szDescription = (LPSTR) "Every column type";
    e->szMachine = (LPSTR) "HOST-1";
    e->Justification = (LPSTR) "because\nreasons";
    e->szUrl = (LPSTR) "http://example.invalid/erp";
    e->SysTime = (SYSTEMTIME){2024, 2, 4, 29, 13, 5, 9, 7};

    column(e, "u8_max", NMCOLUMNTYPE_UINT8)->VariantData.Value.Uint8Val = 255;
    column(e, "u8_zero", NMCOLUMNTYPE_UINT8)->VariantData.Value.Uint8Val = 0;
    column(e, "s8_min", NMCOLUMNTYPE_SINT8)->VariantData.Value.Sint8Val = (char)-128;
    column(e, "s8_max", NMCOLUMNTYPE_SINT8)->VariantData.Value.Sint8Val = 127;
    column(e, "u16_max", NMCOLUMNTYPE_UINT16)->VariantData.Value.Uint16Val = 65535;
    column(e, "s16_min", NMCOLUMNTYPE_SINT16)->VariantData.Value.Sint16Val = -32768;
    column(e, "s16_max", NMCOLUMNTYPE_SINT16)->VariantData.Value.Sint16Val = 32767;
    column(e, "u32_max", NMCOLUMNTYPE_UINT32)->VariantData.Value.Uint32Val = 4294967295u;
    column(e, "s32_min", NMCOLUMNTYPE_SINT32)->VariantData.Value.Sint32Val = INT32_MIN;
    column(e, "s32_max", NMCOLUMNTYPE_SINT32)->VariantData.Value.Sint32Val = INT32_MAX;
    column(e, "f64_tenth", NMCOLUMNTYPE_FLOAT64)->VariantData.Value.Float64Val = 0.1;
    column(e, "f64_three", NMCOLUMNTYPE_FLOAT64)->VariantData.Value.Float64Val = 3.0;
    column(e, "f64_negzero", NMCOLUMNTYPE_FLOAT64)->VariantData.Value.Float64Val = -0.0;
    column(e, "f64_big", NMCOLUMNTYPE_FLOAT64)->VariantData.Value.Float64Val = 1e300;
    column(e, "f64_neg", NMCOLUMNTYPE_FLOAT64)->VariantData.Value.Float64Val = -2.5;
    column(e, "f64_nan", NMCOLUMNTYPE_FLOAT64)->VariantData.Value.Float64Val = NAN;
    column(e, "f64_neg_inf", NMCOLUMNTYPE_FLOAT64)->VariantData.Value.Float64Val = -INFINITY;
    column(e, "frame_first", NMCOLUMNTYPE_FRAME)->VariantData.Value.FrameVal = 0;
    column(e, "frame_high", NMCOLUMNTYPE_FRAME)->VariantData.Value.FrameVal = 0xFFFFFFFEu;
    column(e, "frame_invalid", NMCOLUMNTYPE_FRAME)->VariantData.Value.FrameVal = INVALID_FRAME_NUMBER;
    column(e, "yes", NMCOLUMNTYPE_YESNO)->VariantData.Value.YesNoVal = 1;
    column(e, "yes_minus_one", NMCOLUMNTYPE_YESNO)->VariantData.Value.YesNoVal = -1;
    column(e, "no", NMCOLUMNTYPE_YESNO)->VariantData.Value.YesNoVal = 0;
    column(e, "on", NMCOLUMNTYPE_ONOFF)->VariantData.Value.OnOffVal = 1;
    column(e, "off", NMCOLUMNTYPE_ONOFF)->VariantData.Value.OnOffVal = 0;
    column(e, "true_high_bit", NMCOLUMNTYPE_TRUEFALSE)->VariantData.Value.TrueFalseVal = INT32_MIN;
    column(e, "false", NMCOLUMNTYPE_TRUEFALSE)->VariantData.Value.TrueFalseVal = 0;
    static const BYTE mac[MAC_ADDRESS_SIZE] = {0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};
    static const BYTE mac_low[MAC_ADDRESS_SIZE] = {0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x0F};
    memcpy(column(e, "mac", NMCOLUMNTYPE_MACADDR)->VariantData.Value.MACAddrVal, mac, sizeof mac);
    memcpy(column(e, "mac_low", NMCOLUMNTYPE_MACADDR)->VariantData.Value.MACAddrVal, mac_low, sizeof mac_low);
    static const IPX_ADDR ipx = {{0x0A, 0x0B, 0x0C, 0x0D}, {0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF}};
    column(e, "ipx", NMCOLUMNTYPE_IPXADDR)->VariantData.Value.IPXAddrVal = ipx;
    /* IPADDR holds the address as the frame stores it: copy the four bytes. */
    static const BYTE ip[4] = {192, 168, 0, 1}, ip_all[4] = {255, 255, 255, 255}, ip_low[4] = {10, 0, 0, 254};
    memcpy(&column(e, "ip", NMCOLUMNTYPE_IPADDR)->VariantData.Value.IPAddrVal, ip, 4);
    memcpy(&column(e, "ip_all", NMCOLUMNTYPE_IPADDR)->VariantData.Value.IPAddrVal, ip_all, 4);
    memcpy(&column(e, "ip_low", NMCOLUMNTYPE_IPADDR)->VariantData.Value.IPAddrVal, ip_low, 4);
    column(e, "vartime", NMCOLUMNTYPE_VARTIME)->VariantData.Value.VarTimeVal = 45292.75;
    column(e, "vartime_ms", NMCOLUMNTYPE_VARTIME)->VariantData.Value.VarTimeVal = 45292.0 + 1.5 / 86400.0;
    column(e, "vartime_negative", NMCOLUMNTYPE_VARTIME)->VariantData.Value.VarTimeVal = -1.25;
    column(e, "vartime_zero", NMCOLUMNTYPE_VARTIME)->VariantData.Value.VarTimeVal = 0.0;
    column(e, "vartime_min", NMCOLUMNTYPE_VARTIME)->VariantData.Value.VarTimeVal = -657434.0;
    column(e, "vartime_max", NMCOLUMNTYPE_VARTIME)->VariantData.Value.VarTimeVal = 2958465.0;
    column(e, "vartime_out", NMCOLUMNTYPE_VARTIME)->VariantData.Value.VarTimeVal = 2958466.0;
    column(e, "vartime_nan", NMCOLUMNTYPE_VARTIME)->VariantData.Value.VarTimeVal = NAN;
    column(e, "text", NMCOLUMNTYPE_STRING)->VariantData.Value.pStringVal = "plain text";
    column(e, "text_escapes", NMCOLUMNTYPE_STRING)->VariantData.Value.pStringVal = "q\"b\\n\nt\t";
    column(e, "text_empty", NMCOLUMNTYPE_STRING)->VariantData.Value.pStringVal = "";
    column(e, "text_null", NMCOLUMNTYPE_STRING)->VariantData.Value.pStringVal = NULL;
    column(e, "type_99", (NMCOLUMNTYPE)99)->VariantData.Value.Uint32Val = 12345;
    submit(key, e);
    ExpertFreeMemory(key, e);
}

static void severities(HEXPERTKEY key)
{
    static const DWORD values[] = {0, 1, 2, 3, 4, 5, 99};
    NMEVENTDATA e;
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        memset(&e, 0, sizeof e);
        e.Flags = NMEVENTFLAG_EXPERT;
        e.Severity = values[i];
        e.EventIdent = 100 + values[i];
        e.szEventName = (LPSTR) "Severity";
        submit(key, &e);
    }
}

static void hidden_all(HEXPERTKEY key)
{
    NMEVENTDATA e;
    memset(&e, 0, sizeof e);
    e.EventIdent = 9;
    e.Flags = NMEVENTFLAG_EXPERT | NMEVENTFLAG_DO_NOT_DISPLAY_FIXED_COLUMNS;
    e.Severity = NMEVENT_SEVERITY_ERROR;
    e.szSourceName = (LPSTR) "hidden source";
    e.szEventName = (LPSTR) "Hidden all";
    e.szDescription = (LPSTR) "hidden description";
    e.szMachine = (LPSTR) "hidden machine";
    e.SysTime = (SYSTEMTIME){2001, 2, 0, 3, 4, 5, 6, 7};
    submit(key, &e);
}

static void nulls(HEXPERTKEY key)
{
    NMEVENTDATA e;
    memset(&e, 0, sizeof e);
    e.EventIdent = 10;
    submit(key, &e);
}

static void odd_time(HEXPERTKEY key)
{
    NMEVENTDATA e;
    memset(&e, 0, sizeof e);
    e.EventIdent = 11;
    e.szEventName = (LPSTR) "Odd time";
    e.SysTime = (SYSTEMTIME){65535, 13, 9, 32, 24, 60, 61, 1000};
    submit(key, &e);
}

/* netmon.h: the host copies the event and its strings before returning. */
static void copies(HEXPERTKEY key)
{
    PNMEVENTDATA e = new_event(key, 1);
    char *value = ExpertAllocMemory(key, 16, NULL);
    char *description = ExpertAllocMemory(key, 16, NULL);
    if (!e || !value || !description)
        return;
    e->EventIdent = 12;
    e->szEventName = (LPSTR) "Copy";
    e->szDescription = description;
    strcpy(value, "before");
    strcpy(description, "first");
    column(e, "value", NMCOLUMNTYPE_STRING)->VariantData.Value.pStringVal = value;
    submit(key, e);
    strcpy(value, "after");
    strcpy(description, "second");
    submit(key, e);
    ExpertFreeMemory(key, value);
    ExpertFreeMemory(key, description);
    ExpertFreeMemory(key, e);
}

static void wide(HEXPERTKEY key)
{
    PNMEVENTDATA e = new_event(key, 255);
    char *name = filled(key, 300, 'n');
    char *value = filled(key, 2000, 'v');
    char *description = filled(key, 10000, 'd');
    if (!e || !name || !value || !description)
        return;
    e->EventIdent = 14;
    e->szEventName = (LPSTR) "Wide";
    e->szDescription = description;
    for (int i = 0; i < 255; i++)
        column(e, name, NMCOLUMNTYPE_STRING)->VariantData.Value.pStringVal = value;
    submit(key, e);
}

static void many_columns(HEXPERTKEY key)
{
    PNMEVENTDATA e = new_event(key, 255);
    if (!e)
        return;
    e->EventIdent = 15;
    e->szEventName = (LPSTR) "Many columns";
    for (int i = 0; i < 255; i++)
        column(e, "c", NMCOLUMNTYPE_UINT8)->VariantData.Value.Uint8Val = (BYTE)i;
    submit(key, e);
}

static void long_fields(HEXPERTKEY key)
{
    NMEVENTDATA e;
    memset(&e, 0, sizeof e);
    e.EventIdent = 16;
    e.szEventName = (LPSTR) "Long fields";
    e.szSourceName = filled(key, 300, 's');
    e.szMachine = filled(key, 261, 'm');
    e.Justification = filled(key, 9000, 'j');
    submit(key, &e);
}

static void exact_limits(HEXPERTKEY key)
{
    NMEVENTDATA e;
    memset(&e, 0, sizeof e);
    e.EventIdent = 17;
    e.szEventName = (LPSTR) "Exact limits";
    e.szSourceName = filled(key, 260, 's');
    e.szDescription = filled(key, 8192, 'd');
    e.NumColumns = 1;
    e.Column[0].szColumnName = filled(key, 260, 'n');
    e.Column[0].VariantData.Type = NMCOLUMNTYPE_STRING;
    e.Column[0].VariantData.Value.pStringVal = filled(key, 1024, 'v');
    submit(key, &e);
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)config;
    (void)startup;
    (void)flags;
    (void)parent;
    all_types(key);
    severities(key);
    hidden_all(key);
    nulls(key);
    odd_time(key);
    copies(key);
    wide(key);
    many_columns(key);
    long_fields(key);
    exact_limits(key);

    static const char *const names[MAX_SUBMITS] = {"rc0",  "rc1",  "rc2",  "rc3",  "rc4",  "rc5",
                                                   "rc6",  "rc7",  "rc8",  "rc9",  "rc10", "rc11",
                                                   "rc12", "rc13", "rc14", "rc15", "rc16"};
    report_begin("submitted");
    report_u32("count", submits);
    for (DWORD i = 0; i < submits && i < REPORT_MAX_COLUMNS - 1; i++)
        report_u32(names[i], submitted[i]);
    report_send(key);
    return TRUE;
}
