/*
 * netmon.h - the Network Monitor 2.x Expert API, re-created for Linux (LP64).
 *
 * An expert is a shared object that exports Register, Run and optionally
 * Configure, and calls the eight Expert* helpers implemented by libnmapi.so.
 * Build one with:
 *
 *     cc -shared -fPIC myexpert.c -o myexpert.so $(pkg-config --cflags --libs nmapi)
 *
 * Types keep their Windows widths: BYTE 8, WORD 16, DWORD/LONG/BOOL 32 bits,
 * pointers and SIZE_T 64 bits.  Structures use natural alignment, which is what
 * the reference headers give on 64-bit Windows (column "C" of the layout table
 * in the API digest); tests/test_layout.c checks every size and offset.
 *
 * Where the original documentation is silent or wrong, this header says what
 * expert-sandbox does.  Those choices are marked "expert-sandbox:".
 *
 * Names and numeric values (flags, enumerations, NMERR_* codes, filter
 * actions) are those of the Network Monitor 2.x SDK header, cross-checked
 * against its public translations; the text of this header is our own.
 */
#ifndef NETMON_H
#define NETMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Windows scalar types at their Windows widths                              */
/* ------------------------------------------------------------------------ */

typedef uint8_t BYTE;
typedef uint16_t WORD;
typedef uint32_t DWORD;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef int32_t BOOL;
typedef char CHAR;
typedef double DOUBLE;
typedef size_t SIZE_T;
typedef uintptr_t DWORD_PTR;
typedef int64_t LONGLONG;
typedef void VOID;
typedef void *LPVOID;
typedef char *LPSTR;
typedef const char *LPCSTR;
typedef BYTE *LPBYTE;
typedef WORD *LPWORD;
typedef DWORD *LPDWORD;
typedef void *HANDLE;
typedef HANDLE HWND;
typedef HANDLE HINSTANCE;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/* __stdcall has no meaning on x86-64 Linux; entry points are plain C. */
#define WINAPI
#define WINAPIV

#define MAX_PATH 260

typedef struct _SYSTEMTIME {
    WORD wYear;
    WORD wMonth;
    WORD wDayOfWeek;
    WORD wDay;
    WORD wHour;
    WORD wMinute;
    WORD wSecond;
    WORD wMilliseconds;
} SYSTEMTIME, *LPSYSTEMTIME;

/* ------------------------------------------------------------------------ */
/* Handles and constants                                                    */
/* ------------------------------------------------------------------------ */

typedef LPVOID HEXPERTKEY;      /* one running expert; only for helper calls */
typedef LPVOID HEXPERT;         /* one loaded expert (host side) */
typedef LPVOID HRUNNINGEXPERT;  /* a running expert (host side) */
typedef LPVOID HGROUP;          /* expert group; no API uses it */
typedef struct _FILTER *HFILTER;
typedef struct _CAPTURE *HCAPTURE;
typedef struct _CAPFRAMEDESC *HFRAME;
typedef struct _PROTOCOL *HPROTOCOL;
typedef DWORD_PTR HPROPERTY;
typedef LPSTR JTYPE;

#define EXPERTSTRINGLENGTH MAX_PATH
#define EXPERTGROUPNAMELENGTH 25
#define MAC_ADDRESS_SIZE 6
#define INVALID_FRAME_NUMBER ((DWORD)-1)

typedef struct _IPX_ADDR {
    BYTE Subnet[4];
    BYTE Address[6];
} IPX_ADDR, *LPIPX_ADDR;

/* ------------------------------------------------------------------------ */
/* Raw frames and recognize data                                            */
/* ------------------------------------------------------------------------ */

/*
 * One captured frame as the host hands it out.  expert-sandbox: frames live
 * in a read-only store shared by every expert of a run; writing through
 * pFrame kills the expert with SIGSEGV.
 */
typedef struct _FRAME {
    int64_t TimeStamp;   /* microseconds since the first frame of the capture */
    DWORD FrameLength;   /* length on the wire */
    DWORD nBytesAvail;   /* bytes stored in MacFrame (may be less: snaplen) */
    BYTE MacFrame[];     /* the frame from its link-layer header on */
} FRAME, *LPFRAME, *ULPFRAME;

typedef struct _RECOGNIZEDATA {
    WORD ProtocolID;
    WORD nProtocolOffset;
    LPVOID InstData;
} RECOGNIZEDATA, *LPRECOGNIZEDATA;

typedef struct _RECOGNIZEDATATABLE {
    WORD nRecognizeDatas;
    RECOGNIZEDATA RecognizeData[];
} RECOGNIZEDATATABLE, *LPRECOGNIZEDATATABLE;

/* Properties come from NetMon's parsers, which expert-sandbox does not have:
 * PROPERTYINFO stays opaque and no helper ever attaches properties. */
typedef struct _PROPERTYINFO PROPERTYINFO, *LPPROPERTYINFO;
typedef struct _PROPERTYINSTEX PROPERTYINSTEX, *LPPROPERTYINSTEX;

typedef struct _PROPERTYINST {
    LPPROPERTYINFO lpPropertyInfo;
    LPSTR szPropertyText;
    union {
        LPVOID lpData;
        BYTE *lpByte;
        WORD *lpWord;
        DWORD *lpDword;
        int64_t *lpLargeInt;
        LPPROPERTYINSTEX lpPropertyInstEx;
    };
    WORD DataLength;
    WORD Level : 4;
    WORD HelpID : 12;
    DWORD IFlags;
} PROPERTYINST, *LPPROPERTYINST;

typedef struct _PROPERTYINSTTABLE {
    WORD nPropertyInsts;
    WORD nPropertyInstIndex;
} PROPERTYINSTTABLE, *LPPROPERTYINSTTABLE;

typedef struct _PROPERTYTABLE {
    LPVOID lpFormatBuffer;
    DWORD FormatBufferLength;
    DWORD nTotalPropertyInsts;
    LPPROPERTYINST lpFirstPropertyInst;
    BYTE nPropertyInstTables;
    PROPERTYINSTTABLE PropertyInstTable[];
} PROPERTYTABLE, *LPPROPERTYTABLE;

#define PROP_QUAL_FLAGS 0x0A
#define IFLAG_ERROR 0x00000001
#define IFLAG_SWAPPED 0x00000002
#define IFLAG_UNICODE 0x00000004

/* ------------------------------------------------------------------------ */
/* Expert structures                                                        */
/* ------------------------------------------------------------------------ */

typedef struct _EXPERTENUMINFO EXPERTENUMINFO, *PEXPERTENUMINFO;
typedef struct _EXPERTCONFIG EXPERTCONFIG, *PEXPERTCONFIG;
typedef struct _EXPERTSTARTUPINFO EXPERTSTARTUPINFO, *PEXPERTSTARTUPINFO;

typedef BOOL(WINAPI *PEXPERTREGISTERPROC)(PEXPERTENUMINFO);
typedef BOOL(WINAPI *PEXPERTCONFIGPROC)(HEXPERTKEY, PEXPERTCONFIG *, PEXPERTSTARTUPINFO, DWORD, HWND);
typedef BOOL(WINAPI *PEXPERTRUNPROC)(HEXPERTKEY, PEXPERTCONFIG, PEXPERTSTARTUPINFO, DWORD, HWND);

/* Filled in by Register.  The fields after Flags belong to the host. */
struct _EXPERTENUMINFO {
    char szName[EXPERTSTRINGLENGTH];
    char szVendor[EXPERTSTRINGLENGTH];
    char szDescription[EXPERTSTRINGLENGTH];
    DWORD Version;   /* the reference says 0; any value is accepted and reported */
    DWORD Flags;     /* EXPERT_ENUM_FLAG_* */
    /* private */
    char szDllName[MAX_PATH];
    HEXPERT hExpert;
    HINSTANCE hModule;
    PEXPERTREGISTERPROC pRegisterProc;
    PEXPERTCONFIGPROC pConfigProc;
    PEXPERTRUNPROC pRunProc;
};

/* A stored configuration.  RawConfigLength counts the whole block, its own
 * four bytes included; the rest is the expert's. */
struct _EXPERTCONFIG {
    DWORD RawConfigLength;
    BYTE RawConfigData[];
};

typedef struct {
    BYTE BitNumber;
    BOOL bOn;
} EXPERTSTARTUPBITFIELD;

/* expert-sandbox: hCapture is an opaque non-NULL handle for the run's capture;
 * szCaptureFile is the capture's file name as given to the broker (truncated
 * to MAX_PATH-1 bytes); hProtocol and lpPropertyInst are always NULL. */
struct _EXPERTSTARTUPINFO {
    DWORD Flags;
    HCAPTURE hCapture;
    char szCaptureFile[MAX_PATH];
    DWORD dwFrameNumber;
    HPROTOCOL hProtocol;
    LPPROPERTYINST lpPropertyInst;
    EXPERTSTARTUPBITFIELD sBitfield;
};

typedef struct _CONFIGUREDEXPERT {
    HEXPERT hExpert;
    DWORD StartupFlags;
    PEXPERTCONFIG pConfig;
} CONFIGUREDEXPERT, *PCONFIGUREDEXPERT;

/* expert-sandbox: hFrame is an opaque handle equal to (HFRAME)pFrame;
 * lpRecognizeDataTable lists where each protocol starts (ES_PROTOCOL_*
 * below), outermost first, and stays valid until the next ExpertGetFrame
 * call; lpPropertyTable is always NULL (there are no parsers to attach).
 *
 * The host walks these link types: DLT_EN10MB (802.3 frames through
 * LLC/SNAP), DLT_LINUX_SLL and SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL,
 * DLT_LOOP, DLT_IEEE802_11_RADIO and DLT_IEEE802_11 (data frames in the
 * clear, through LLC/SNAP; protected frames, null data, A-MSDUs and
 * management, control and extension frames end at the MAC header), DLT_PPP
 * and DLT_PPP_SERIAL (with or without address and control, protocol field
 * compressed or not; Cisco HDLC frames among them), DLT_C_HDLC, DLT_FRELAY
 * (RFC 2427 NLPIDs and SNAP, Cisco's EtherType encapsulation), DLT_NFLOG and
 * DLT_IPNET; any other link type has an empty table.  Then 802.1Q/802.1ad
 * tags, ARP, IPv4 (whose transport only in a first fragment), IPv6 (through
 * hop-by-hop, routing, fragment, destination-options and AH headers), and
 * TCP, UDP, ICMP or ICMPv6.  An IP header is recorded only when its version
 * nibble agrees (an IPv4 type holding version 6 is recorded as IPv6, as
 * tshark reads it).  A header that was not captured whole ends the table, as
 * does the first protocol the walk does not know. */
typedef struct _EXPERTFRAMEDESCRIPTOR {
    DWORD FrameNumber;   /* 0-based */
    HFRAME hFrame;
    ULPFRAME pFrame;
    LPRECOGNIZEDATATABLE lpRecognizeDataTable;
    LPPROPERTYTABLE lpPropertyTable;
} EXPERTFRAMEDESCRIPTOR, *LPEXPERTFRAMEDESCRIPTOR;

typedef enum {
    EXPERTSTATUS_INACTIVE = 0,
    EXPERTSTATUS_STARTING = 1,
    EXPERTSTATUS_RUNNING = 2,
    EXPERTSTATUS_PROBLEM = 3,
    EXPERTSTATUS_ABORTED = 4,
    EXPERTSTATUS_DONE = 5
} EXPERTSTATUSENUMERATION;

typedef struct _EXPERTSTATUS {
    EXPERTSTATUSENUMERATION Status;
    DWORD SubStatus;
    DWORD PercentDone;
    DWORD Frame;
    char szStatusText[EXPERTSTRINGLENGTH];
} EXPERTSTATUS, *PEXPERTSTATUS;

typedef struct _GROUPINFO {
    char szGroupName[EXPERTGROUPNAMELENGTH + 1];
    HGROUP hGroup;
} GROUPINFO, *PGROUPINFO;

typedef struct _PROTOCOLTABLE {
    DWORD nProtocols;
    HPROTOCOL hProtocol[1];
} PROTOCOLTABLE, *LPPROTOCOLTABLE;

/* EXPERTENUMINFO.Flags */
#define EXPERT_ENUM_FLAG_CONFIGURABLE 0x0001
#define EXPERT_ENUM_FLAG_VIEWER_PRIVATE 0x0002
#define EXPERT_ENUM_FLAG_NO_VIEWER 0x0004
#define EXPERT_ENUM_FLAG_ADD_ME_TO_RMC_IN_SUMMARY 0x0010
#define EXPERT_ENUM_FLAG_ADD_ME_TO_RMC_IN_DETAIL 0x0020

/* StartupFlags passed to Configure and Run */
#define EXPERT_STARTUP_FLAG_USE_STARTUP_DATA_OVER_CONFIG_DATA 0x00000001

/* EXPERTSTATUS.SubStatus when Status is EXPERTSTATUS_ABORTED */
#define EXPERTSUBSTATUS_ABORTED_USER 0x00000001
#define EXPERTSUBSTATUS_ABORTED_LOAD_FAIL 0x00000002
#define EXPERTSUBSTATUS_ABORTED_THREAD_FAIL 0x00000004
#define EXPERTSUBSTATUS_ABORTED_BAD_ENTRY 0x00000008

/* ExpertGetFrame directions and request flags */
#define GET_SPECIFIED_FRAME 0
#define GET_FRAME_NEXT_FORWARD 1
#define GET_FRAME_NEXT_BACKWARD 2
#define FLAGS_DEFER_TO_UI_FILTER 0x1
#define FLAGS_ATTACH_PROPERTIES 0x2

/* Entry point names */
#define EXPERTENTRY_REGISTER "Register"
#define EXPERTENTRY_CONFIGURE "Configure"
#define EXPERTENTRY_RUN "Run"

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

typedef enum {
    NMCOLUMNTYPE_UINT8 = 0,
    NMCOLUMNTYPE_SINT8 = 1,
    NMCOLUMNTYPE_UINT16 = 2,
    NMCOLUMNTYPE_SINT16 = 3,
    NMCOLUMNTYPE_UINT32 = 4,
    NMCOLUMNTYPE_SINT32 = 5,
    NMCOLUMNTYPE_FLOAT64 = 6,
    NMCOLUMNTYPE_FRAME = 7,
    NMCOLUMNTYPE_YESNO = 8,
    NMCOLUMNTYPE_ONOFF = 9,
    NMCOLUMNTYPE_TRUEFALSE = 10,
    NMCOLUMNTYPE_MACADDR = 11,
    NMCOLUMNTYPE_IPXADDR = 12,
    NMCOLUMNTYPE_IPADDR = 13,
    NMCOLUMNTYPE_VARTIME = 14,
    NMCOLUMNTYPE_STRING = 15
} NMCOLUMNTYPE;

typedef struct _NMCOLUMNVARIANT {
    NMCOLUMNTYPE Type;
    union {
        BYTE Uint8Val;
        char Sint8Val;
        WORD Uint16Val;
        int16_t Sint16Val;
        DWORD Uint32Val;
        LONG Sint32Val;
        DOUBLE Float64Val;
        DWORD FrameVal;   /* 0-based frame number; shown 1-based */
        BOOL YesNoVal;
        BOOL OnOffVal;
        BOOL TrueFalseVal;
        BYTE MACAddrVal[MAC_ADDRESS_SIZE];
        IPX_ADDR IPXAddrVal;
        DWORD IPAddrVal;  /* IPv4 address as stored in the frame (network order) */
        DOUBLE VarTimeVal;
        LPCSTR pStringVal;
    } Value;
} NMCOLUMNVARIANT;

typedef struct _NMCOLUMNINFO {
    LPSTR szColumnName;
    NMCOLUMNVARIANT VariantData;
} NMCOLUMNINFO, *PNMCOLUMNINFO;

typedef struct _NMEVENTDATA {
    LPSTR pszReserved;
    BYTE Version;
    DWORD EventIdent;
    DWORD Flags;
    DWORD Severity;
    BYTE NumColumns;
    LPSTR szSourceName;
    LPSTR szEventName;
    LPSTR szDescription;
    LPSTR szMachine;
    JTYPE Justification;
    LPSTR szUrl;            /* pvReserved in later headers; must be NULL */
    SYSTEMTIME SysTime;
    NMCOLUMNINFO Column[1]; /* NumColumns entries; allocate sizeof + (N-1) more */
} NMEVENTDATA, *PNMEVENTDATA;

/* NMEVENTDATA.Flags */
#define NMEVENTFLAG_MONITOR 0x00000000
#define NMEVENTFLAG_EXPERT 0x00000001
#define NMEVENTFLAG_DO_NOT_DISPLAY_SEVERITY 0x80000000
#define NMEVENTFLAG_DO_NOT_DISPLAY_SOURCE 0x40000000
#define NMEVENTFLAG_DO_NOT_DISPLAY_EVENT_NAME 0x20000000
#define NMEVENTFLAG_DO_NOT_DISPLAY_DESCRIPTION 0x10000000
#define NMEVENTFLAG_DO_NOT_DISPLAY_MACHINE 0x08000000
#define NMEVENTFLAG_DO_NOT_DISPLAY_TIME 0x04000000
#define NMEVENTFLAG_DO_NOT_DISPLAY_DATE 0x02000000
#define NMEVENTFLAG_DO_NOT_DISPLAY_FIXED_COLUMNS 0xFE000000

enum _NMEVENT_SEVERITIES {
    NMEVENT_SEVERITY_INFORMATIONAL = 0,
    NMEVENT_SEVERITY_WARNING = 1,
    NMEVENT_SEVERITY_STRONG_WARNING = 2,
    NMEVENT_SEVERITY_ERROR = 3,
    NMEVENT_SEVERITY_SEVERE_ERROR = 4,
    NMEVENT_SEVERITY_CRITICAL_ERROR = 5
};

/* ------------------------------------------------------------------------ */
/* Display filters (BHFilter)                                               */
/*                                                                          */
/* expert-sandbox has no parsers and no filter API yet (CreateFilter,       */
/* FilterAddObject ... are not exported), so an expert passes hFilter=NULL  */
/* to ExpertGetFrame.  The types and constants are declared anyway so that  */
/* code written against the reference header compiles unchanged.            */
/* ------------------------------------------------------------------------ */

typedef DWORD FILTERACTIONTYPE;  /* one of FILTERACTION_* */
typedef DWORD VALUETYPE;         /* an immediate operand of a filter object */

/* The kernel-style address (MAC, IP, IPX, ...) and SNMP-style object
 * identifier are only ever reached through pointers here; their layouts
 * matter to the parsers, which expert-sandbox does not have. */
typedef struct _ADDRESS ADDRESS, *LPADDRESS;
typedef struct _OBJECT_IDENTIFIER OBJECT_IDENTIFIER, *LPOBJECT_IDENTIFIER;

/* Windows' LARGE_INTEGER is an 8-byte union whose QuadPart is a LONGLONG;
 * the filter code only ever points at one. */
typedef LONGLONG *LPLARGEINT, *ULPLARGEINT;
typedef SYSTEMTIME *LPTIME, *ULPTIME;

typedef PROTOCOLTABLE PROTOCOLTABLETYPE, *LPPROTOCOLTABLETYPE;

/*
 * One element of a display filter, which is a postfix stack built with one
 * FilterAddObject call per element.  hProperty sits outside the operand
 * union because a failed comparison is restarted from the property.
 */
typedef struct _FILTEROBJECT {
    FILTERACTIONTYPE Action;   /* FILTERACTION_* */
    HPROPERTY hProperty;
    union {
        VALUETYPE Value;
        HPROTOCOL hProtocol;
        LPVOID lpArray;                    /* ByteCount bytes long */
        LPPROTOCOLTABLETYPE lpProtocolTable;
        LPADDRESS lpAddress;
        ULPLARGEINT lpLargeInt;
        ULPTIME lpTime;
        LPOBJECT_IDENTIFIER lpOID;
    };
    union {
        WORD ByteCount;    /* length of lpArray in bytes */
        WORD ByteOffset;   /* where an array compare starts */
    };
    struct _FILTEROBJECT *pNext;   /* reserved */
} FILTEROBJECT, *LPFILTEROBJECT;

/* FILTEROBJECT.Action: operands */
#define FILTERACTION_INVALID 0
#define FILTERACTION_PROPERTY 1
#define FILTERACTION_VALUE 2
#define FILTERACTION_STRING 3
#define FILTERACTION_ARRAY 4
#define FILTERACTION_PROPERTYEXIST 8
#define FILTERACTION_LARGEINT 37
#define FILTERACTION_TIME 38
#define FILTERACTION_ADDR_ETHER 39
#define FILTERACTION_ADDR_TOKEN 40
#define FILTERACTION_ADDR_FDDI 41
#define FILTERACTION_ADDR_IPX 42
#define FILTERACTION_ADDR_IP 43
#define FILTERACTION_OID 44
#define FILTERACTION_ADDR_VINES 48
#define FILTERACTION_ADDR_IP6 49   /* only in the later (IPv6-aware) SDK header */
#define FILTERACTION_EXPRESSION 97
#define FILTERACTION_BOOL 98
#define FILTERACTION_NOEVAL 99

/* FILTEROBJECT.Action: logical operators */
#define FILTERACTION_AND 5
#define FILTERACTION_OR 6
#define FILTERACTION_XOR 7
#define FILTERACTION_NOT 11

/* FILTEROBJECT.Action: comparisons ("NC" = case-insensitive) and arithmetic */
#define FILTERACTION_CONTAINSNC 9
#define FILTERACTION_CONTAINS 10
#define FILTERACTION_EQUALNC 12
#define FILTERACTION_EQUAL 13
#define FILTERACTION_NOTEQUALNC 14
#define FILTERACTION_NOTEQUAL 15
#define FILTERACTION_GREATERNC 16
#define FILTERACTION_GREATER 17
#define FILTERACTION_LESSNC 18
#define FILTERACTION_LESS 19
#define FILTERACTION_GREATEREQUALNC 20
#define FILTERACTION_GREATEREQUAL 21
#define FILTERACTION_LESSEQUALNC 22
#define FILTERACTION_LESSEQUAL 23
#define FILTERACTION_PLUS 24
#define FILTERACTION_MINUS 25

/* FILTEROBJECT.Action: addresses */
#define FILTERACTION_ADDRESS 26
#define FILTERACTION_ADDRESSANY 27
#define FILTERACTION_FROM 28
#define FILTERACTION_TO 29
#define FILTERACTION_FROMTO 30

/* FILTEROBJECT.Action: bits, protocols, arrays, object identifiers */
#define FILTERACTION_AREBITSON 31
#define FILTERACTION_AREBITSOFF 32
#define FILTERACTION_PROTOCOLSEXIST 33
#define FILTERACTION_PROTOCOLEXIST 34
#define FILTERACTION_ARRAYEQUAL 35
#define FILTERACTION_DEREFPROPERTY 36
#define FILTERACTION_OID_CONTAINS 45
#define FILTERACTION_OID_BEGINS_WITH 46
#define FILTERACTION_OID_ENDS_WITH 47

/* Other filter constants */
#define FILTERFREEPOOLSTART 20
#define INVALIDELEMENT (-1)
#define INVALIDVALUE ((VALUETYPE)-9999)
#define PROTOCOL_NUM_ANY (-1)          /* PROTOCOLTABLE.nProtocols: "all of them" */
#define FILTER_FAIL_WITH_ERROR (-1)    /* FilterFrame: see BhGetLastError */
#define FILTER_PASSED TRUE
#define FILTER_FAILED FALSE
#define FILTER_NO_MORE_FRAMES 0xFFFFFFFFu
#define FILTER_CANCELED 0xFFFFFFFEu
#define FILTER_DIRECTION_NEXT TRUE
#define FILTER_DIRECTION_PREV FALSE

/* ------------------------------------------------------------------------ */
/* Error codes (NMErr)                                                      */
/*                                                                          */
/* NMERR values are small DWORDs, not HRESULTs.  Every code of the          */
/* reference is declared with its reference value, including the ones no   */
/* expert can meet here (capture drivers, remote agents, monitors), so that */
/* a number in a log can always be named.  The reference leaves 43-45, 52   */
/* and 68 unassigned.                                                       */
/* ------------------------------------------------------------------------ */

#define NMERR_SUCCESS 0
#define NMERR_MEMORY_MAPPED_FILE_ERROR 1
#define NMERR_INVALID_HFILTER 2
#define NMERR_CAPTURING 3
#define NMERR_NOT_CAPTURING 4
#define NMERR_NO_MORE_FRAMES 5   /* expert-sandbox: ExpertGetFrame past either end */
#define NMERR_BUFFER_TOO_SMALL 6
#define NMERR_FRAME_NOT_RECOGNIZED 7
#define NMERR_FILE_ALREADY_EXISTS 8
#define NMERR_DRIVER_NOT_FOUND 9
#define NMERR_ADDRESS_ALREADY_EXISTS 10
#define NMERR_INVALID_HFRAME 11
#define NMERR_INVALID_HPROTOCOL 12
#define NMERR_INVALID_HPROPERTY 13
#define NMERR_LOCKED 14
#define NMERR_STACK_EMPTY 15
#define NMERR_STACK_OVERFLOW 16
#define NMERR_TOO_MANY_PROTOCOLS 17
#define NMERR_FILE_NOT_FOUND 18
#define NMERR_OUT_OF_MEMORY 19   /* expert-sandbox: the expert's heap quota is reached */
#define NMERR_CAPTURE_PAUSED 20
#define NMERR_NO_BUFFERS 21
#define NMERR_BUFFERS_ALREADY_EXIST 22
#define NMERR_NOT_LOCKED 23
#define NMERR_OUT_OF_RANGE 24
#define NMERR_LOCK_NESTING_TOO_DEEP 25
#define NMERR_LOAD_PARSER_FAILED 26
#define NMERR_UNLOAD_PARSER_FAILED 27
#define NMERR_INVALID_HADDRESSDB 28
#define NMERR_ADDRESS_NOT_FOUND 29
#define NMERR_NETWORK_NOT_PRESENT 30
#define NMERR_NO_PROPERTY_DATABASE 31
#define NMERR_PROPERTY_NOT_FOUND 32
#define NMERR_INVALID_HPROPERTYDB 33
#define NMERR_PROTOCOL_NOT_ENABLED 34
#define NMERR_PROTOCOL_NOT_FOUND 35
#define NMERR_INVALID_PARSER_DLL 36
#define NMERR_NO_ATTACHED_PROPERTIES 37
#define NMERR_NO_FRAMES 38
#define NMERR_INVALID_FILE_FORMAT 39
#define NMERR_COULD_NOT_CREATE_TEMPFILE 40
#define NMERR_OUT_OF_DOS_MEMORY 41
#define NMERR_NO_PROTOCOLS_ENABLED 42
#define NMERR_UNKNOWN_MACTYPE 46
#define NMERR_ROUTING_INFO_NOT_PRESENT 47
#define NMERR_INVALID_HNETWORK 48
#define NMERR_NETWORK_ALREADY_OPENED 49
#define NMERR_NETWORK_NOT_OPENED 50
#define NMERR_FRAME_NOT_FOUND 51   /* expert-sandbox: GET_SPECIFIED_FRAME of a missing frame */
#define NMERR_NO_HANDLES 53
#define NMERR_INVALID_NETWORK_ID 54
#define NMERR_INVALID_HCAPTURE 55
#define NMERR_PROTOCOL_ALREADY_ENABLED 56
#define NMERR_FILTER_INVALID_EXPRESSION 57
#define NMERR_TRANSMIT_ERROR 58
#define NMERR_INVALID_HBUFFER 59
#define NMERR_INVALID_DATA 60
#define NMERR_MSDOS_DRIVER_NOT_LOADED 61
#define NMERR_WINDOWS_DRIVER_NOT_LOADED 62
#define NMERR_MSDOS_DRIVER_INIT_FAILURE 63
#define NMERR_WINDOWS_DRIVER_INIT_FAILURE 64
#define NMERR_NETWORK_BUSY 65
#define NMERR_CAPTURE_NOT_PAUSED 66
#define NMERR_INVALID_PACKET_LENGTH 67
#define NMERR_INTERNAL_EXCEPTION 69
#define NMERR_PROMISCUOUS_MODE_NOT_SUPPORTED 70
#define NMERR_MAC_DRIVER_OPEN_FAILURE 71
#define NMERR_RUNAWAY_PROTOCOL 72
#define NMERR_PENDING 73
#define NMERR_ACCESS_DENIED 74
#define NMERR_INVALID_HPASSWORD 75
#define NMERR_INVALID_PARAMETER 76
#define NMERR_FILE_READ_ERROR 77
#define NMERR_FILE_WRITE_ERROR 78
#define NMERR_PROTOCOL_NOT_REGISTERED 79
#define NMERR_IP_ADDRESS_NOT_FOUND 80
#define NMERR_TRANSMIT_CANCELLED 81
#define NMERR_LOCKED_FRAMES 82
#define NMERR_NO_TRANSMITS_PENDING 83
#define NMERR_PATH_NOT_FOUND 84
#define NMERR_WINDOWS_ERROR 85
#define NMERR_NO_FRAME_NUMBER 86
#define NMERR_FRAME_HAS_NO_CAPTURE 87
#define NMERR_FRAME_ALREADY_HAS_CAPTURE 88
#define NMERR_NAL_IS_NOT_REMOTE 89
#define NMERR_NOT_SUPPORTED 90
#define NMERR_DISCARD_FRAME 91
#define NMERR_CANCEL_SAVE_CAPTURE 92
#define NMERR_LOST_CONNECTION 93
#define NMERR_INVALID_MEDIA_TYPE 94
#define NMERR_AGENT_IN_USE 95
#define NMERR_TIMEOUT 96
#define NMERR_DISCONNECTED 97
#define NMERR_SETTIMER_FAILED 98
#define NMERR_NETWORK_ERROR 99
#define NMERR_INVALID_FRAMESPROC 100
#define NMERR_UNKNOWN_CAPTURETYPE 101
#define NMERR_NOT_CONNECTED 102
#define NMERR_ALREADY_CONNECTED 103
#define NMERR_INVALID_REGISTRY_CONFIGURATION 104
#define NMERR_DELAYED 105
#define NMERR_NOT_DELAYED 106
#define NMERR_REALTIME 107
#define NMERR_NOT_REALTIME 108
#define NMERR_STATS_ONLY 109
#define NMERR_NOT_STATS_ONLY 110
#define NMERR_TRANSMIT 111
#define NMERR_NOT_TRANSMIT 112
#define NMERR_TRANSMITTING 113
#define NMERR_DISK_NOT_LOCAL_FIXED 114
#define NMERR_COULD_NOT_CREATE_DIRECTORY 115
#define NMERR_NO_DEFAULT_CAPTURE_DIRECTORY 116
#define NMERR_UPLEVEL_CAPTURE_FILE 117
#define NMERR_LOAD_EXPERT_FAILED 118     /* the expert could not be loaded */
#define NMERR_EXPERT_REPORT_FAILED 119   /* Register failed */
#define NMERR_REG_OPERATION_FAILED 120
#define NMERR_NO_DLLS_FOUND 121
#define NMERR_NO_CONVERSATION_STATS 122
#define NMERR_SECURITY_BREACH_CAPTURE_DELETED 123
#define NMERR_FRAME_FAILED_FILTER 124
#define NMERR_EXPERT_TERMINATE 125       /* the host wants the expert to stop: clean up, return */
#define NMERR_REMOTE_NOT_A_SERVER 126
#define NMERR_REMOTE_VERSION_OUTOFSYNC 127
#define NMERR_INVALID_EXPERT_GROUP 128
#define NMERR_INVALID_EXPERT_NAME 129
#define NMERR_INVALID_EXPERT_HANDLE 130
#define NMERR_GROUP_NAME_ALREADY_EXISTS 131
#define NMERR_INVALID_GROUP_NAME 132
#define NMERR_EXPERT_ALREADY_IN_GROUP 133
#define NMERR_EXPERT_NOT_IN_GROUP 134
#define NMERR_NOT_INITIALIZED 135
#define NMERR_INVALID_GROUP_ROOT 136
#define NMERR_BAD_VERSION 137
#define NMERR_ESP 138
#define NMERR_NOT_ESP 139

/* BLOB (configuration container) errors */
#define NMERR_BLOB_NOT_INITIALIZED 1000
#define NMERR_INVALID_BLOB 1001
#define NMERR_UPLEVEL_BLOB 1002
#define NMERR_BLOB_ENTRY_ALREADY_EXISTS 1003
#define NMERR_BLOB_ENTRY_DOES_NOT_EXIST 1004
#define NMERR_AMBIGUOUS_SPECIFIER 1005
#define NMERR_BLOB_OWNER_NOT_FOUND 1006
#define NMERR_BLOB_CATEGORY_NOT_FOUND 1007
#define NMERR_UNKNOWN_CATEGORY 1008
#define NMERR_UNKNOWN_TAG 1009
#define NMERR_BLOB_CONVERSION_ERROR 1010
#define NMERR_ILLEGAL_TRIGGER 1011
#define NMERR_BLOB_STRING_INVALID 1012

/* Finder (capture-driver discovery) errors; the family is split in two */
#define NMERR_UNABLE_TO_LOAD_LIBRARY 1013
#define NMERR_UNABLE_TO_GET_PROCADDR 1014
#define NMERR_CLASS_NOT_REGISTERED 1015
#define NMERR_INVALID_REMOTE_COMPUTERNAME 1016
#define NMERR_RPC_REMOTE_FAILURE 1017
#define NMERR_NO_NPPS 3016
#define NMERR_NO_MATCHING_NPPS 3017
#define NMERR_NO_NPP_SELECTED 3018
#define NMERR_NO_INPUT_BLOBS 3019
#define NMERR_NO_NPP_DLLS 3020
#define NMERR_NO_VALID_NPP_DLLS 3021

/*
 * Monitor errors.  The reference leaves 2004 and 2020 unassigned and gives
 * SAVE_MONITOR_FAILED the value 2029 (not the 2020 its position suggests);
 * the value is kept as published, since that is what a real host returns.
 */
#define NMERR_INVALID_LIST_INDEX 2000
#define NMERR_INVALID_MONITOR 2001
#define NMERR_INVALID_MONITOR_DLL 2002
#define NMERR_UNABLE_TO_CREATE_MONITOR 2003
#define NMERR_INVALID_MONITOR_CONFIG 2005
#define NMERR_INVALID_INDEX 2006
#define NMERR_MONITOR_ENABLED 2007
#define NMERR_MONITOR_NOT_RUNNING 2008
#define NMERR_MONITOR_IS_BUSY 2009
#define NMERR_MCS_IS_BUSY 2010
#define NMERR_NO_MONITORS 2011
#define NMERR_ONE_MONITOR_PER_NETCARD 2012
#define NMERR_CONFIGURATION_REQUIRED 2013
#define NMERR_MONITOR_NOT_CONNECTED 2014
#define NMERR_MONITOR_NOT_CONFIGURED 2015
#define NMERR_MONITOR_CONFIG_FAILED 2016
#define NMERR_MONITOR_INIT_FAILED 2017
#define NMERR_MONITOR_FAULTED 2018
#define NMERR_SAVE_ALL_FAILED 2019
#define NMERR_SAVE_MONITOR_FAILED 2029
#define NMERR_MONITOR_CONNECT_FAILED 2021
#define NMERR_MONITOR_START_FAILED 2022
#define NMERR_MONITOR_STOP_FAILED 2023

/*
 * HRESULT bridging, used by NetMon's COM interfaces: an NMERR travels in
 * the code field of a failure HRESULT with FACILITY_ITF, i.e. 0x8004xxxx
 * (NMERR_EXPERT_TERMINATE becomes 0x8004007D); success becomes 0 (NOERROR).
 * The reference has inline functions; macros keep this header free of
 * definitions.  0x80040000 is written as -0x7FFC0000 so that no conversion
 * of an out-of-range unsigned value to a signed type is involved.
 */
typedef int32_t HRESULT;

#define NMERR_TO_HRESULT(nmerror)                                              \
    ((DWORD)(nmerror) == NMERR_SUCCESS                                         \
         ? (HRESULT)0                                                          \
         : (HRESULT)(-0x7FFC0000 + (HRESULT)(WORD)(nmerror)))
#define HRESULT_TO_NMERR(hresult) ((DWORD)((DWORD)(hresult) & 0xFFFFu))

/* ------------------------------------------------------------------------ */
/* Entry points an expert exports                                           */
/* ------------------------------------------------------------------------ */

BOOL WINAPI Register(PEXPERTENUMINFO pExpertInfo);
BOOL WINAPI Configure(HEXPERTKEY hExpertKey, PEXPERTCONFIG *ppConfig,
                      PEXPERTSTARTUPINFO pExpertStartupInfo, DWORD StartupFlags, HWND hWnd);
BOOL WINAPI Run(HEXPERTKEY hExpertKey, PEXPERTCONFIG pConfig,
                PEXPERTSTARTUPINFO pExpertStartupInfo, DWORD StartupFlags, HWND hWndParent);

/* ------------------------------------------------------------------------ */
/* The helpers (libnmapi.so)                                                */
/*                                                                          */
/* Every helper returns NMERR_EXPERT_TERMINATE (or NULL with it in *pError) */
/* once the host wants the expert to stop: on Ctrl-C, on a timeout, or when */
/* a fault injection says so.  The expert must then clean up and return.    */
/*                                                                          */
/* expert-sandbox: a helper accepts only the HEXPERTKEY of the Run or       */
/* Configure call in progress; any other key (a cached one, NULL, one made  */
/* up) gives NMERR_INVALID_PARAMETER.  The helpers are not thread-safe, and */
/* need not be: the sandbox allows no threads.                              */
/* ------------------------------------------------------------------------ */

/*
 * Returns a frame of the capture in *pEFrameDescriptor, with pFrame pointing
 * into the read-only frame store.  Frame numbers are 0-based.
 *
 * expert-sandbox:
 *  - GET_SPECIFIED_FRAME returns RequestedFrameNumber, or NMERR_FRAME_NOT_FOUND
 *    when there is no such frame.
 *  - GET_FRAME_NEXT_FORWARD returns the first frame after RequestedFrameNumber
 *    (the first frame of the capture when it is INVALID_FRAME_NUMBER);
 *    GET_FRAME_NEXT_BACKWARD the last frame before it (the last frame of the
 *    capture when it is INVALID_FRAME_NUMBER).  Past either end they return
 *    NMERR_NO_MORE_FRAMES; an empty capture gives NMERR_NO_MORE_FRAMES too.
 *  - Any other direction, or a NULL descriptor, gives NMERR_INVALID_PARAMETER.
 *  - FLAGS_DEFER_TO_UI_FILTER: frames that fail the analyst's --filter are
 *    skipped (GET_SPECIFIED_FRAME returns NMERR_FRAME_FAILED_FILTER for one).
 *  - hFilter: NULL, or a filter from ExpertCompileFilter, applied after the
 *    --filter; any other handle gives NMERR_INVALID_HFILTER.
 *  - FLAGS_ATTACH_PROPERTIES is accepted and changes nothing: there are no
 *    parsers, so lpPropertyTable is NULL with or without it.
 *  - A call makes no system call.
 */
DWORD WINAPI ExpertGetFrame(HEXPERTKEY hExpertKey, DWORD Direction, DWORD RequestFlags,
                            DWORD RequestedFrameNumber, HFILTER hFilter,
                            LPEXPERTFRAMEDESCRIPTOR pEFrameDescriptor);

/*
 * Allocates nBytes from the expert's heap: a segment of --memory bytes owned
 * by the broker, released whole when the expert ends however it ends.
 *
 * expert-sandbox: the block is zero-filled and aligned to 16 bytes.  At quota
 * it returns NULL with NMERR_OUT_OF_MEMORY in *pError (pError may be NULL).
 * nBytes == 0 returns a valid, unique block.  No system call is made.
 */
LPVOID WINAPI ExpertAllocMemory(HEXPERTKEY hExpertKey, SIZE_T nBytes, DWORD *pError);

/*
 * Resizes a block from ExpertAllocMemory/ExpertReallocMemory, keeping its
 * contents up to the smaller size; bytes added by growing are zero-filled.
 * A NULL pOriginalMemory behaves as ExpertAllocMemory.  On failure the
 * original block is left as it was and NULL is returned, with the error in
 * *pError when pError is not NULL.
 */
LPVOID WINAPI ExpertReallocMemory(HEXPERTKEY hExpertKey, LPVOID pOriginalMemory, SIZE_T nBytes,
                                  DWORD *pError);

/*
 * Frees a block.  expert-sandbox: freeing NULL succeeds; freeing a pointer
 * that is not a live block returns NMERR_INVALID_PARAMETER when the heap can
 * tell (double free, pointer outside the heap), and never corrupts the broker.
 * A freed block of up to 1 KiB may be kept aside for the next allocation of
 * its size (still refused as a double free); it counts as freed in the heap
 * figures the broker reports (in use, blocks), and is given back to the
 * heap before any allocation would fail for want of memory.
 */
DWORD WINAPI ExpertFreeMemory(HEXPERTKEY hExpertKey, LPVOID pOriginalMemory);

/* Size of a live block as requested; 0 for NULL or a pointer the heap rejects. */
SIZE_T WINAPI ExpertMemorySize(HEXPERTKEY hExpertKey, LPVOID pOriginalMemory);

/*
 * Reports progress.  PercentDone above 99 is ignored (the host sets 100 on
 * success), as is a negative value.  szText may be NULL.
 */
DWORD WINAPI ExpertIndicateStatus(HEXPERTKEY hExpertKey, EXPERTSTATUSENUMERATION Status,
                                  DWORD SubStatus, const char *szText, LONG PercentDone);

/*
 * Submits one event.  The host copies the event and every string it points
 * to before returning, so the expert may reuse or free it at once.  When the
 * call returns NMERR_SUCCESS the event can no longer be lost, even if the
 * expert crashes on its next instruction.
 *
 * expert-sandbox: long strings are truncated (see docs/output.md for the
 * limits); NumColumns above what fits is cut, and the event says so.  The
 * event is written into a ring in memory the broker owns, with no system
 * call unless the broker is asleep (one wake-up datagram) or the ring is
 * full (the call then waits for the broker to make room).
 */
DWORD WINAPI ExpertSubmitEvent(HEXPERTKEY hExpertKey, PNMEVENTDATA pExpertEvent);

/* Copies the startup information Run or Configure was given. */
DWORD WINAPI ExpertGetStartupInfo(HEXPERTKEY hExpertKey, PEXPERTSTARTUPINFO pExpertStartupInfo);

/* ------------------------------------------------------------------------ */
/* Common functions and expert-sandbox extensions (libnmapi.so)             */
/* ------------------------------------------------------------------------ */

/* GetCaptureMacType results (NetMon's MAC types). */
#define MAC_TYPE_UNKNOWN 0
#define MAC_TYPE_ETHERNET 1
#define MAC_TYPE_TOKENRING 2
#define MAC_TYPE_FDDI 3
#define MAC_TYPE_ATM 4
#define MAC_TYPE_1394 5

/* expert-sandbox: RECOGNIZEDATA.ProtocolID values.  NetMon's were indexes
 * of its parsers; these are fixed.  Each entry's nProtocolOffset is where the
 * header starts, except that an ES_PROTOCOL_VLAN entry points at the tag's
 * TPID, which is the previous header's type field (the 802.1Q tag as the
 * standard draws it): the TCI is 2 bytes further on, and the type of what
 * follows the tag 4 bytes further on. */
#define ES_PROTOCOL_ETHERNET 1
#define ES_PROTOCOL_VLAN 2        /* one per 802.1Q or 802.1ad tag, at its TPID */
#define ES_PROTOCOL_ARP 3
#define ES_PROTOCOL_IPV4 4
#define ES_PROTOCOL_IPV6 5
#define ES_PROTOCOL_TCP 6
#define ES_PROTOCOL_UDP 7
#define ES_PROTOCOL_ICMP 8
#define ES_PROTOCOL_ICMPV6 9
#define ES_PROTOCOL_LINUX_SLL 10  /* Linux "cooked" capture header, v1 or v2 */
#define ES_PROTOCOL_LOOPBACK 11   /* BSD loopback (NULL, LOOP) header */
#define ES_PROTOCOL_RADIOTAP 12   /* radiotap header before an 802.11 frame */
#define ES_PROTOCOL_IEEE80211 13  /* 802.11 MAC header (QoS, HT Control included) */
#define ES_PROTOCOL_LLC_SNAP 14   /* 802.2 LLC + SNAP carrying an EtherType */
#define ES_PROTOCOL_PPP 15        /* PPP address, control and protocol fields */
#define ES_PROTOCOL_CISCO_HDLC 16 /* Cisco HDLC address, control and type */
#define ES_PROTOCOL_FRAME_RELAY 17 /* Q.922 address to the NLPID or type */
#define ES_PROTOCOL_NFLOG 18      /* Linux NFLOG header and TLVs */
#define ES_PROTOCOL_IPNET 19      /* Solaris IPNET header */

/* Frames in the capture (the reference's common function), from the
 * startup information's hCapture; 0 for any other handle. */
DWORD WINAPI GetCaptureTotalFrames(HCAPTURE hCapture);

/* MAC_TYPE_ETHERNET for Ethernet captures, MAC_TYPE_UNKNOWN otherwise. */
DWORD WINAPI GetCaptureMacType(HCAPTURE hCapture);

/* expert-sandbox: the capture's libpcap link type (DLT_EN10MB, DLT_RAW,
 * DLT_LINUX_SLL, ...), for experts that parse other links; (DWORD)-1 for a
 * handle that is not the capture's. */
DWORD WINAPI GetCaptureLinkType(HCAPTURE hCapture);

/*
 * expert-sandbox: the expert's own display filter, from a tcpdump/BPF
 * expression (pcap-filter(7)), for ExpertGetFrame's hFilter.  NetMon built
 * filters from parser properties (CreateFilter, FilterAddObject), which this
 * host does not have.  Returns NULL with NMERR_FILTER_INVALID_EXPRESSION in
 * *pError when the expression does not compile or names a host, network or
 * service: only numbers and addresses are accepted, because looking names up
 * would need files and sockets the sandbox refuses.  At most 64 filters are
 * alive at once.  Free with DestroyFilter.
 */
HFILTER WINAPI ExpertCompileFilter(HEXPERTKEY hExpertKey, LPCSTR szExpression, DWORD *pError);

/* The reference's common function: NMERR_SUCCESS, or NMERR_INVALID_HFILTER
 * for a handle that is not a live filter. */
DWORD WINAPI DestroyFilter(HFILTER hFilter);

#ifdef __cplusplus
}
#endif

#endif /* NETMON_H */
