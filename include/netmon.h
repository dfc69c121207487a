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
 * lpPropertyTable is always NULL (there are no parsers to attach). */
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
/* Error codes (NMErr)                                                      */
/* ------------------------------------------------------------------------ */

#define NMERR_SUCCESS 0
#define NMERR_INVALID_HFILTER 2
#define NMERR_NO_MORE_FRAMES 5
#define NMERR_BUFFER_TOO_SMALL 6
#define NMERR_FRAME_NOT_RECOGNIZED 7
#define NMERR_INVALID_HFRAME 11
#define NMERR_INVALID_HPROTOCOL 12
#define NMERR_INVALID_HPROPERTY 13
#define NMERR_OUT_OF_MEMORY 19
#define NMERR_OUT_OF_RANGE 24
#define NMERR_PROPERTY_NOT_FOUND 32
#define NMERR_PROTOCOL_NOT_ENABLED 34
#define NMERR_NO_ATTACHED_PROPERTIES 37
#define NMERR_NO_FRAMES 38
#define NMERR_FRAME_NOT_FOUND 51
#define NMERR_INVALID_HCAPTURE 55
#define NMERR_FILTER_INVALID_EXPRESSION 57
#define NMERR_INVALID_DATA 60
#define NMERR_INTERNAL_EXCEPTION 69
#define NMERR_INVALID_PARAMETER 76
#define NMERR_WINDOWS_ERROR 85
#define NMERR_NO_FRAME_NUMBER 86
#define NMERR_FRAME_HAS_NO_CAPTURE 87
#define NMERR_NOT_SUPPORTED 90
#define NMERR_LOAD_EXPERT_FAILED 118
#define NMERR_EXPERT_REPORT_FAILED 119
#define NMERR_REG_OPERATION_FAILED 120
#define NMERR_NO_DLLS_FOUND 121
#define NMERR_FRAME_FAILED_FILTER 124
#define NMERR_EXPERT_TERMINATE 125
#define NMERR_INVALID_EXPERT_GROUP 128
#define NMERR_INVALID_EXPERT_NAME 129
#define NMERR_INVALID_EXPERT_HANDLE 130
#define NMERR_GROUP_NAME_ALREADY_EXISTS 131
#define NMERR_INVALID_GROUP_NAME 132
#define NMERR_EXPERT_ALREADY_IN_GROUP 133
#define NMERR_EXPERT_NOT_IN_GROUP 134
#define NMERR_NOT_INITIALIZED 135
#define NMERR_INVALID_GROUP_ROOT 136

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
 * limits); NumColumns above what fits is cut, and the event says so.
 */
DWORD WINAPI ExpertSubmitEvent(HEXPERTKEY hExpertKey, PNMEVENTDATA pExpertEvent);

/* Copies the startup information Run or Configure was given. */
DWORD WINAPI ExpertGetStartupInfo(HEXPERTKEY hExpertKey, PEXPERTSTARTUPINFO pExpertStartupInfo);

#ifdef __cplusplus
}
#endif

#endif /* NETMON_H */
