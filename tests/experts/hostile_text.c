/*
 * hostile_text - events whose text is everything an output writer can get
 * wrong: quotes, backslashes, control characters, invalid UTF-8, text far
 * over the documented limits, every column type, and more columns than fit.
 *
 * The broker must turn all of it into valid JSON (and valid UTF-8), marking
 * what it cut.  The test parses every line strictly.
 */
#include <string.h>

#include "netmon.h"

#define OVERLONG 20000   /* well above every limit in docs/output.md */

static char overlong_text[OVERLONG + 1];

/* Quote, backslash, every C0 control, DEL, lone continuation byte, overlong
 * encoding of '/', a truncated 3-byte sequence, a UTF-16 surrogate encoded as
 * UTF-8, and finally some valid multi-byte text that must survive. */
static const char nasty[] =
    "quote\" backslash\\ slash/ "
    "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
    "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f "
    "\x80 \xc0\xaf \xe2\x82 \xed\xa0\x80 \xff\xfe "
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6";

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    /* The registration text is untrusted too: `list` must escape it. */
    strcpy(info->szName, "Hostile \"text\"\x01\xff");
    strcpy(info->szVendor, "expert-sandbox tests\\");
    strcpy(info->szDescription, nasty);
    return TRUE;
}

static void set_column(NMCOLUMNINFO *column, const char *name, NMCOLUMNTYPE type)
{
    memset(column, 0, sizeof(*column));
    column->szColumnName = (LPSTR)name;
    column->VariantData.Type = type;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    memset(overlong_text, 'x', OVERLONG);
    overlong_text[OVERLONG] = '\0';

    /* 1: every column type once, with the hostile string where text goes. */
    enum { TYPES = NMCOLUMNTYPE_STRING + 1 };
    PNMEVENTDATA event = ExpertAllocMemory(key, sizeof(NMEVENTDATA) + (TYPES - 1) * sizeof(NMCOLUMNINFO), NULL);
    if (event == NULL)
        return FALSE;
    event->EventIdent = 1;
    event->Flags = NMEVENTFLAG_EXPERT;
    event->Severity = NMEVENT_SEVERITY_CRITICAL_ERROR;
    event->szSourceName = (LPSTR)nasty;
    event->szEventName = (LPSTR)nasty;
    event->szDescription = (LPSTR)nasty;
    event->szMachine = (LPSTR)nasty;
    event->Justification = (LPSTR)nasty;
    event->NumColumns = TYPES;
    NMCOLUMNINFO *c = event->Column;
    set_column(&c[0], "u8", NMCOLUMNTYPE_UINT8);        c[0].VariantData.Value.Uint8Val = 255;
    set_column(&c[1], "s8", NMCOLUMNTYPE_SINT8);        c[1].VariantData.Value.Sint8Val = -128;
    set_column(&c[2], "u16", NMCOLUMNTYPE_UINT16);      c[2].VariantData.Value.Uint16Val = 65535;
    set_column(&c[3], "s16", NMCOLUMNTYPE_SINT16);      c[3].VariantData.Value.Sint16Val = -32768;
    set_column(&c[4], "u32", NMCOLUMNTYPE_UINT32);      c[4].VariantData.Value.Uint32Val = 4294967295u;
    set_column(&c[5], "s32", NMCOLUMNTYPE_SINT32);      c[5].VariantData.Value.Sint32Val = -2147483647 - 1;
    set_column(&c[6], "f64", NMCOLUMNTYPE_FLOAT64);     c[6].VariantData.Value.Float64Val = 1.0 / 3.0;
    set_column(&c[7], "frame", NMCOLUMNTYPE_FRAME);     c[7].VariantData.Value.FrameVal = 0;
    set_column(&c[8], "yesno", NMCOLUMNTYPE_YESNO);     c[8].VariantData.Value.YesNoVal = TRUE;
    set_column(&c[9], "onoff", NMCOLUMNTYPE_ONOFF);     c[9].VariantData.Value.OnOffVal = FALSE;
    set_column(&c[10], "truefalse", NMCOLUMNTYPE_TRUEFALSE); c[10].VariantData.Value.TrueFalseVal = 2;
    set_column(&c[11], "mac", NMCOLUMNTYPE_MACADDR);
    memcpy(c[11].VariantData.Value.MACAddrVal, "\x00\x1b\x21\xff\xfe\x01", MAC_ADDRESS_SIZE);
    set_column(&c[12], "ipx", NMCOLUMNTYPE_IPXADDR);
    memcpy(&c[12].VariantData.Value.IPXAddrVal, "\x00\x00\x00\x2a\x00\x1b\x21\xff\xfe\x01", 10);
    set_column(&c[13], "ip", NMCOLUMNTYPE_IPADDR);
    memcpy(&c[13].VariantData.Value.IPAddrVal, "\xc0\xa8\x01\x02", 4);
    set_column(&c[14], "vartime", NMCOLUMNTYPE_VARTIME); c[14].VariantData.Value.VarTimeVal = 45000.5;
    set_column(&c[15], nasty, NMCOLUMNTYPE_STRING);     c[15].VariantData.Value.pStringVal = nasty;
    if (ExpertSubmitEvent(key, event) != NMERR_SUCCESS)
        return FALSE;
    ExpertFreeMemory(key, event);

    /* 2: every text far over its limit, and the most columns NumColumns can
     * say, each with a long name and long string value. */
    enum { MOST_COLUMNS = 255 };
    event = ExpertAllocMemory(key, sizeof(NMEVENTDATA) + (MOST_COLUMNS - 1) * sizeof(NMCOLUMNINFO), NULL);
    if (event == NULL)
        return FALSE;
    event->EventIdent = 2;
    event->Flags = NMEVENTFLAG_EXPERT;
    event->szSourceName = overlong_text;
    event->szEventName = overlong_text;
    event->szDescription = overlong_text;
    event->Justification = overlong_text;
    event->NumColumns = MOST_COLUMNS;
    for (int i = 0; i < MOST_COLUMNS; i++) {
        set_column(&event->Column[i], overlong_text, NMCOLUMNTYPE_STRING);
        event->Column[i].VariantData.Value.pStringVal = overlong_text;
    }
    if (ExpertSubmitEvent(key, event) != NMERR_SUCCESS)
        return FALSE;

    /* 3: NULL everywhere a string may be NULL, including a STRING column. */
    NMEVENTDATA empty;
    memset(&empty, 0, sizeof(empty));
    empty.EventIdent = 3;
    empty.NumColumns = 1;
    set_column(&empty.Column[0], NULL, NMCOLUMNTYPE_STRING);
    return ExpertSubmitEvent(key, &empty) == NMERR_SUCCESS;
}
