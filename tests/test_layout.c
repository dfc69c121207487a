/*
 * test_layout.c - the ABI of include/netmon.h on Linux LP64.
 *
 * An expert compiled against netmon.h shares every structure with
 * libnmapi.so and, through the worker, with the broker; a field that moves
 * silently corrupts events.  The expected sizes and offsets are column "C"
 * (x64, natural alignment) of the layout table in the API digest (section 9),
 * extended by the same rule to the structures the digest does not tabulate.
 * The expected constant values are the reference SDK header's.
 *
 * Each table below is an X-macro used twice: once for _Static_assert, so a
 * wrong header does not even compile, and once for a Check loop test, so the
 * test log names every row that was verified.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netmon.h"

_Static_assert(sizeof(void *) == 8, "expert-sandbox targets LP64 Linux");

/* ------------------------------------------------------------------------ */
/* Type widths                                                              */
/* ------------------------------------------------------------------------ */

#define TYPE_WIDTHS(X)            \
    X(BYTE, 1)                    \
    X(CHAR, 1)                    \
    X(WORD, 2)                    \
    X(DWORD, 4)                   \
    X(LONG, 4)                    \
    X(ULONG, 4)                   \
    X(BOOL, 4)                    \
    X(HRESULT, 4)                 \
    X(DOUBLE, 8)                  \
    X(LONGLONG, 8)                \
    X(SIZE_T, 8)                  \
    X(DWORD_PTR, 8)               \
    X(LPVOID, 8)                  \
    X(LPSTR, 8)                   \
    X(HANDLE, 8)                  \
    X(HEXPERTKEY, 8)              \
    X(HEXPERT, 8)                 \
    X(HRUNNINGEXPERT, 8)          \
    X(HGROUP, 8)                  \
    X(HFILTER, 8)                 \
    X(HCAPTURE, 8)                \
    X(HFRAME, 8)                  \
    X(HPROTOCOL, 8)               \
    X(HPROPERTY, 8)               \
    X(JTYPE, 8)                   \
    X(ULPFRAME, 8)                \
    X(PEXPERTRUNPROC, 8)          \
    X(EXPERTSTATUSENUMERATION, 4) \
    X(NMCOLUMNTYPE, 4)            \
    X(FILTERACTIONTYPE, 4)        \
    X(VALUETYPE, 4)

/* ------------------------------------------------------------------------ */
/* Structure sizes and field offsets (x64)                                  */
/* ------------------------------------------------------------------------ */

#define STRUCT_SIZES(X)          \
    X(EXPERTENUMINFO, 1088)      \
    X(EXPERTCONFIG, 4)           \
    X(EXPERTSTARTUPINFO, 304)    \
    X(EXPERTSTARTUPBITFIELD, 8)  \
    X(CONFIGUREDEXPERT, 24)      \
    X(EXPERTFRAMEDESCRIPTOR, 40) \
    X(EXPERTSTATUS, 276)         \
    X(NMCOLUMNVARIANT, 24)       \
    X(NMCOLUMNINFO, 32)          \
    X(NMEVENTDATA, 128)          \
    X(FRAME, 16)                 \
    X(SYSTEMTIME, 16)            \
    X(IPX_ADDR, 10)              \
    X(GROUPINFO, 40)             \
    X(PROTOCOLTABLE, 16)         \
    X(FILTEROBJECT, 40)          \
    X(RECOGNIZEDATA, 16)         \
    X(RECOGNIZEDATATABLE, 8)     \
    X(PROPERTYINST, 32)          \
    X(PROPERTYINSTTABLE, 4)      \
    X(PROPERTYTABLE, 32)

#define FIELD_OFFSETS(X)                                \
    X(EXPERTENUMINFO, szName, 0)                        \
    X(EXPERTENUMINFO, szVendor, 260)                    \
    X(EXPERTENUMINFO, szDescription, 520)               \
    X(EXPERTENUMINFO, Version, 780)                     \
    X(EXPERTENUMINFO, Flags, 784)                       \
    X(EXPERTENUMINFO, szDllName, 788)                   \
    X(EXPERTENUMINFO, hExpert, 1048)                    \
    X(EXPERTENUMINFO, hModule, 1056)                    \
    X(EXPERTENUMINFO, pRegisterProc, 1064)              \
    X(EXPERTENUMINFO, pConfigProc, 1072)                \
    X(EXPERTENUMINFO, pRunProc, 1080)                   \
    X(EXPERTCONFIG, RawConfigLength, 0)                 \
    X(EXPERTCONFIG, RawConfigData, 4)                   \
    X(EXPERTSTARTUPINFO, Flags, 0)                      \
    X(EXPERTSTARTUPINFO, hCapture, 8)                   \
    X(EXPERTSTARTUPINFO, szCaptureFile, 16)             \
    X(EXPERTSTARTUPINFO, dwFrameNumber, 276)            \
    X(EXPERTSTARTUPINFO, hProtocol, 280)                \
    X(EXPERTSTARTUPINFO, lpPropertyInst, 288)           \
    X(EXPERTSTARTUPINFO, sBitfield, 296)                \
    X(EXPERTSTARTUPINFO, sBitfield.BitNumber, 296)      \
    X(EXPERTSTARTUPINFO, sBitfield.bOn, 300)            \
    X(CONFIGUREDEXPERT, hExpert, 0)                     \
    X(CONFIGUREDEXPERT, StartupFlags, 8)                \
    X(CONFIGUREDEXPERT, pConfig, 16)                    \
    X(EXPERTFRAMEDESCRIPTOR, FrameNumber, 0)            \
    X(EXPERTFRAMEDESCRIPTOR, hFrame, 8)                 \
    X(EXPERTFRAMEDESCRIPTOR, pFrame, 16)                \
    X(EXPERTFRAMEDESCRIPTOR, lpRecognizeDataTable, 24)  \
    X(EXPERTFRAMEDESCRIPTOR, lpPropertyTable, 32)       \
    X(EXPERTSTATUS, Status, 0)                          \
    X(EXPERTSTATUS, SubStatus, 4)                       \
    X(EXPERTSTATUS, PercentDone, 8)                     \
    X(EXPERTSTATUS, Frame, 12)                          \
    X(EXPERTSTATUS, szStatusText, 16)                   \
    X(NMCOLUMNVARIANT, Type, 0)                         \
    X(NMCOLUMNVARIANT, Value, 8)                        \
    X(NMCOLUMNVARIANT, Value.Uint32Val, 8)              \
    X(NMCOLUMNVARIANT, Value.Float64Val, 8)             \
    X(NMCOLUMNVARIANT, Value.MACAddrVal, 8)             \
    X(NMCOLUMNVARIANT, Value.IPXAddrVal, 8)             \
    X(NMCOLUMNVARIANT, Value.pStringVal, 8)             \
    X(NMCOLUMNINFO, szColumnName, 0)                    \
    X(NMCOLUMNINFO, VariantData, 8)                     \
    X(NMEVENTDATA, pszReserved, 0)                      \
    X(NMEVENTDATA, Version, 8)                          \
    X(NMEVENTDATA, EventIdent, 12)                      \
    X(NMEVENTDATA, Flags, 16)                           \
    X(NMEVENTDATA, Severity, 20)                        \
    X(NMEVENTDATA, NumColumns, 24)                      \
    X(NMEVENTDATA, szSourceName, 32)                    \
    X(NMEVENTDATA, szEventName, 40)                     \
    X(NMEVENTDATA, szDescription, 48)                   \
    X(NMEVENTDATA, szMachine, 56)                       \
    X(NMEVENTDATA, Justification, 64)                   \
    X(NMEVENTDATA, szUrl, 72)                           \
    X(NMEVENTDATA, SysTime, 80)                         \
    X(NMEVENTDATA, Column, 96)                          \
    X(FRAME, TimeStamp, 0)                              \
    X(FRAME, FrameLength, 8)                            \
    X(FRAME, nBytesAvail, 12)                           \
    X(FRAME, MacFrame, 16)                              \
    X(SYSTEMTIME, wYear, 0)                             \
    X(SYSTEMTIME, wMonth, 2)                            \
    X(SYSTEMTIME, wDayOfWeek, 4)                        \
    X(SYSTEMTIME, wDay, 6)                              \
    X(SYSTEMTIME, wHour, 8)                             \
    X(SYSTEMTIME, wMinute, 10)                          \
    X(SYSTEMTIME, wSecond, 12)                          \
    X(SYSTEMTIME, wMilliseconds, 14)                    \
    X(IPX_ADDR, Subnet, 0)                              \
    X(IPX_ADDR, Address, 4)                             \
    X(GROUPINFO, szGroupName, 0)                        \
    X(GROUPINFO, hGroup, 32)                            \
    X(PROTOCOLTABLE, nProtocols, 0)                     \
    X(PROTOCOLTABLE, hProtocol, 8)                      \
    X(FILTEROBJECT, Action, 0)                          \
    X(FILTEROBJECT, hProperty, 8)                       \
    X(FILTEROBJECT, Value, 16)                          \
    X(FILTEROBJECT, hProtocol, 16)                      \
    X(FILTEROBJECT, lpArray, 16)                        \
    X(FILTEROBJECT, lpProtocolTable, 16)                \
    X(FILTEROBJECT, lpAddress, 16)                      \
    X(FILTEROBJECT, lpLargeInt, 16)                     \
    X(FILTEROBJECT, lpTime, 16)                         \
    X(FILTEROBJECT, lpOID, 16)                          \
    X(FILTEROBJECT, ByteCount, 24)                      \
    X(FILTEROBJECT, ByteOffset, 24)                     \
    X(FILTEROBJECT, pNext, 32)                          \
    X(RECOGNIZEDATA, ProtocolID, 0)                     \
    X(RECOGNIZEDATA, nProtocolOffset, 2)                \
    X(RECOGNIZEDATA, InstData, 8)                       \
    X(RECOGNIZEDATATABLE, nRecognizeDatas, 0)           \
    X(RECOGNIZEDATATABLE, RecognizeData, 8)             \
    X(PROPERTYINST, lpPropertyInfo, 0)                  \
    X(PROPERTYINST, szPropertyText, 8)                  \
    X(PROPERTYINST, lpData, 16)                         \
    X(PROPERTYINST, lpPropertyInstEx, 16)               \
    X(PROPERTYINST, DataLength, 24)                     \
    X(PROPERTYINST, IFlags, 28)                         \
    X(PROPERTYINSTTABLE, nPropertyInsts, 0)             \
    X(PROPERTYINSTTABLE, nPropertyInstIndex, 2)         \
    X(PROPERTYTABLE, lpFormatBuffer, 0)                 \
    X(PROPERTYTABLE, FormatBufferLength, 8)             \
    X(PROPERTYTABLE, nTotalPropertyInsts, 12)           \
    X(PROPERTYTABLE, lpFirstPropertyInst, 16)           \
    X(PROPERTYTABLE, nPropertyInstTables, 24)           \
    X(PROPERTYTABLE, PropertyInstTable, 26)

/* Member widths that the offsets alone do not pin down. */
#define MEMBER_SIZES(X)                                 \
    X(EXPERTENUMINFO, szName, 260)                      \
    X(EXPERTENUMINFO, szDllName, 260)                   \
    X(EXPERTSTARTUPINFO, szCaptureFile, 260)            \
    X(EXPERTSTATUS, szStatusText, 260)                  \
    X(GROUPINFO, szGroupName, 26)                       \
    X(NMEVENTDATA, Version, 1)                          \
    X(NMEVENTDATA, NumColumns, 1)                       \
    X(NMEVENTDATA, Column, 32)                          \
    X(NMCOLUMNVARIANT, Value, 16)                       \
    X(NMCOLUMNVARIANT, Value.MACAddrVal, 6)             \
    X(FRAME, TimeStamp, 8)                              \
    X(FRAME, MacFrame[0], 1)                            \
    X(EXPERTSTARTUPINFO, sBitfield.BitNumber, 1)        \
    X(EXPERTSTARTUPINFO, sBitfield.bOn, 4)              \
    X(FILTEROBJECT, Value, 4)                           \
    X(FILTEROBJECT, ByteCount, 2)

/* ------------------------------------------------------------------------ */
/* Constants                                                                */
/* ------------------------------------------------------------------------ */

#define EXPERT_CONSTANTS(X)                                         \
    X(MAX_PATH, 260)                                                \
    X(EXPERTSTRINGLENGTH, 260)                                      \
    X(EXPERTGROUPNAMELENGTH, 25)                                    \
    X(MAC_ADDRESS_SIZE, 6)                                          \
    X(INVALID_FRAME_NUMBER, 0xFFFFFFFF)                             \
    X(TRUE, 1)                                                      \
    X(FALSE, 0)                                                     \
    X(EXPERT_ENUM_FLAG_CONFIGURABLE, 0x0001)                        \
    X(EXPERT_ENUM_FLAG_VIEWER_PRIVATE, 0x0002)                      \
    X(EXPERT_ENUM_FLAG_NO_VIEWER, 0x0004)                           \
    X(EXPERT_ENUM_FLAG_ADD_ME_TO_RMC_IN_SUMMARY, 0x0010)            \
    X(EXPERT_ENUM_FLAG_ADD_ME_TO_RMC_IN_DETAIL, 0x0020)             \
    X(EXPERT_STARTUP_FLAG_USE_STARTUP_DATA_OVER_CONFIG_DATA, 0x1)   \
    X(EXPERTSUBSTATUS_ABORTED_USER, 0x1)                            \
    X(EXPERTSUBSTATUS_ABORTED_LOAD_FAIL, 0x2)                       \
    X(EXPERTSUBSTATUS_ABORTED_THREAD_FAIL, 0x4)                     \
    X(EXPERTSUBSTATUS_ABORTED_BAD_ENTRY, 0x8)                       \
    X(EXPERTSTATUS_INACTIVE, 0)                                     \
    X(EXPERTSTATUS_STARTING, 1)                                     \
    X(EXPERTSTATUS_RUNNING, 2)                                      \
    X(EXPERTSTATUS_PROBLEM, 3)                                      \
    X(EXPERTSTATUS_ABORTED, 4)                                      \
    X(EXPERTSTATUS_DONE, 5)                                         \
    X(GET_SPECIFIED_FRAME, 0)                                       \
    X(GET_FRAME_NEXT_FORWARD, 1)                                    \
    X(GET_FRAME_NEXT_BACKWARD, 2)                                   \
    X(FLAGS_DEFER_TO_UI_FILTER, 0x1)                                \
    X(FLAGS_ATTACH_PROPERTIES, 0x2)                                 \
    X(PROP_QUAL_FLAGS, 0x0A)                                        \
    X(IFLAG_ERROR, 0x1)                                             \
    X(IFLAG_SWAPPED, 0x2)                                           \
    X(IFLAG_UNICODE, 0x4)

#define EVENT_CONSTANTS(X)                                          \
    X(NMEVENTFLAG_MONITOR, 0)                                       \
    X(NMEVENTFLAG_EXPERT, 0x1)                                      \
    X(NMEVENTFLAG_DO_NOT_DISPLAY_SEVERITY, 0x80000000)              \
    X(NMEVENTFLAG_DO_NOT_DISPLAY_SOURCE, 0x40000000)                \
    X(NMEVENTFLAG_DO_NOT_DISPLAY_EVENT_NAME, 0x20000000)            \
    X(NMEVENTFLAG_DO_NOT_DISPLAY_DESCRIPTION, 0x10000000)           \
    X(NMEVENTFLAG_DO_NOT_DISPLAY_MACHINE, 0x08000000)               \
    X(NMEVENTFLAG_DO_NOT_DISPLAY_TIME, 0x04000000)                  \
    X(NMEVENTFLAG_DO_NOT_DISPLAY_DATE, 0x02000000)                  \
    X(NMEVENTFLAG_DO_NOT_DISPLAY_FIXED_COLUMNS, 0xFE000000)         \
    X(NMEVENT_SEVERITY_INFORMATIONAL, 0)                            \
    X(NMEVENT_SEVERITY_WARNING, 1)                                  \
    X(NMEVENT_SEVERITY_STRONG_WARNING, 2)                           \
    X(NMEVENT_SEVERITY_ERROR, 3)                                    \
    X(NMEVENT_SEVERITY_SEVERE_ERROR, 4)                             \
    X(NMEVENT_SEVERITY_CRITICAL_ERROR, 5)                           \
    X(NMCOLUMNTYPE_UINT8, 0)                                        \
    X(NMCOLUMNTYPE_SINT8, 1)                                        \
    X(NMCOLUMNTYPE_UINT16, 2)                                       \
    X(NMCOLUMNTYPE_SINT16, 3)                                       \
    X(NMCOLUMNTYPE_UINT32, 4)                                       \
    X(NMCOLUMNTYPE_SINT32, 5)                                       \
    X(NMCOLUMNTYPE_FLOAT64, 6)                                      \
    X(NMCOLUMNTYPE_FRAME, 7)                                        \
    X(NMCOLUMNTYPE_YESNO, 8)                                        \
    X(NMCOLUMNTYPE_ONOFF, 9)                                        \
    X(NMCOLUMNTYPE_TRUEFALSE, 10)                                   \
    X(NMCOLUMNTYPE_MACADDR, 11)                                     \
    X(NMCOLUMNTYPE_IPXADDR, 12)                                     \
    X(NMCOLUMNTYPE_IPADDR, 13)                                      \
    X(NMCOLUMNTYPE_VARTIME, 14)                                     \
    X(NMCOLUMNTYPE_STRING, 15)

#define FILTER_CONSTANTS(X)                                         \
    X(FILTERACTION_INVALID, 0)                                      \
    X(FILTERACTION_PROPERTY, 1)                                     \
    X(FILTERACTION_VALUE, 2)                                        \
    X(FILTERACTION_STRING, 3)                                       \
    X(FILTERACTION_ARRAY, 4)                                        \
    X(FILTERACTION_AND, 5)                                          \
    X(FILTERACTION_OR, 6)                                           \
    X(FILTERACTION_XOR, 7)                                          \
    X(FILTERACTION_PROPERTYEXIST, 8)                                \
    X(FILTERACTION_CONTAINSNC, 9)                                   \
    X(FILTERACTION_CONTAINS, 10)                                    \
    X(FILTERACTION_NOT, 11)                                         \
    X(FILTERACTION_EQUALNC, 12)                                     \
    X(FILTERACTION_EQUAL, 13)                                       \
    X(FILTERACTION_NOTEQUALNC, 14)                                  \
    X(FILTERACTION_NOTEQUAL, 15)                                    \
    X(FILTERACTION_GREATERNC, 16)                                   \
    X(FILTERACTION_GREATER, 17)                                     \
    X(FILTERACTION_LESSNC, 18)                                      \
    X(FILTERACTION_LESS, 19)                                        \
    X(FILTERACTION_GREATEREQUALNC, 20)                              \
    X(FILTERACTION_GREATEREQUAL, 21)                                \
    X(FILTERACTION_LESSEQUALNC, 22)                                 \
    X(FILTERACTION_LESSEQUAL, 23)                                   \
    X(FILTERACTION_PLUS, 24)                                        \
    X(FILTERACTION_MINUS, 25)                                       \
    X(FILTERACTION_ADDRESS, 26)                                     \
    X(FILTERACTION_ADDRESSANY, 27)                                  \
    X(FILTERACTION_FROM, 28)                                        \
    X(FILTERACTION_TO, 29)                                          \
    X(FILTERACTION_FROMTO, 30)                                      \
    X(FILTERACTION_AREBITSON, 31)                                   \
    X(FILTERACTION_AREBITSOFF, 32)                                  \
    X(FILTERACTION_PROTOCOLSEXIST, 33)                              \
    X(FILTERACTION_PROTOCOLEXIST, 34)                               \
    X(FILTERACTION_ARRAYEQUAL, 35)                                  \
    X(FILTERACTION_DEREFPROPERTY, 36)                               \
    X(FILTERACTION_LARGEINT, 37)                                    \
    X(FILTERACTION_TIME, 38)                                        \
    X(FILTERACTION_ADDR_ETHER, 39)                                  \
    X(FILTERACTION_ADDR_TOKEN, 40)                                  \
    X(FILTERACTION_ADDR_FDDI, 41)                                   \
    X(FILTERACTION_ADDR_IPX, 42)                                    \
    X(FILTERACTION_ADDR_IP, 43)                                     \
    X(FILTERACTION_OID, 44)                                         \
    X(FILTERACTION_OID_CONTAINS, 45)                                \
    X(FILTERACTION_OID_BEGINS_WITH, 46)                             \
    X(FILTERACTION_OID_ENDS_WITH, 47)                               \
    X(FILTERACTION_ADDR_VINES, 48)                                  \
    X(FILTERACTION_ADDR_IP6, 49)                                    \
    X(FILTERACTION_EXPRESSION, 97)                                  \
    X(FILTERACTION_BOOL, 98)                                        \
    X(FILTERACTION_NOEVAL, 99)                                      \
    X(FILTERFREEPOOLSTART, 20)                                      \
    X(INVALIDELEMENT, -1)                                           \
    X(INVALIDVALUE, 0xFFFFD8F1) /* (DWORD)-9999 */                  \
    X(PROTOCOL_NUM_ANY, -1)                                         \
    X(FILTER_FAIL_WITH_ERROR, -1)                                   \
    X(FILTER_PASSED, 1)                                             \
    X(FILTER_FAILED, 0)                                             \
    X(FILTER_NO_MORE_FRAMES, 0xFFFFFFFF)                            \
    X(FILTER_CANCELED, 0xFFFFFFFE)                                  \
    X(FILTER_DIRECTION_NEXT, 1)                                     \
    X(FILTER_DIRECTION_PREV, 0)

/* Every NMERR code of the reference, transcribed independently of the
 * header from the SDK header's public translations. */
#define NMERR_CODES(X) \
    X(NMERR_SUCCESS, 0) \
    X(NMERR_MEMORY_MAPPED_FILE_ERROR, 1) \
    X(NMERR_INVALID_HFILTER, 2) \
    X(NMERR_CAPTURING, 3) \
    X(NMERR_NOT_CAPTURING, 4) \
    X(NMERR_NO_MORE_FRAMES, 5) \
    X(NMERR_BUFFER_TOO_SMALL, 6) \
    X(NMERR_FRAME_NOT_RECOGNIZED, 7) \
    X(NMERR_FILE_ALREADY_EXISTS, 8) \
    X(NMERR_DRIVER_NOT_FOUND, 9) \
    X(NMERR_ADDRESS_ALREADY_EXISTS, 10) \
    X(NMERR_INVALID_HFRAME, 11) \
    X(NMERR_INVALID_HPROTOCOL, 12) \
    X(NMERR_INVALID_HPROPERTY, 13) \
    X(NMERR_LOCKED, 14) \
    X(NMERR_STACK_EMPTY, 15) \
    X(NMERR_STACK_OVERFLOW, 16) \
    X(NMERR_TOO_MANY_PROTOCOLS, 17) \
    X(NMERR_FILE_NOT_FOUND, 18) \
    X(NMERR_OUT_OF_MEMORY, 19) \
    X(NMERR_CAPTURE_PAUSED, 20) \
    X(NMERR_NO_BUFFERS, 21) \
    X(NMERR_BUFFERS_ALREADY_EXIST, 22) \
    X(NMERR_NOT_LOCKED, 23) \
    X(NMERR_OUT_OF_RANGE, 24) \
    X(NMERR_LOCK_NESTING_TOO_DEEP, 25) \
    X(NMERR_LOAD_PARSER_FAILED, 26) \
    X(NMERR_UNLOAD_PARSER_FAILED, 27) \
    X(NMERR_INVALID_HADDRESSDB, 28) \
    X(NMERR_ADDRESS_NOT_FOUND, 29) \
    X(NMERR_NETWORK_NOT_PRESENT, 30) \
    X(NMERR_NO_PROPERTY_DATABASE, 31) \
    X(NMERR_PROPERTY_NOT_FOUND, 32) \
    X(NMERR_INVALID_HPROPERTYDB, 33) \
    X(NMERR_PROTOCOL_NOT_ENABLED, 34) \
    X(NMERR_PROTOCOL_NOT_FOUND, 35) \
    X(NMERR_INVALID_PARSER_DLL, 36) \
    X(NMERR_NO_ATTACHED_PROPERTIES, 37) \
    X(NMERR_NO_FRAMES, 38) \
    X(NMERR_INVALID_FILE_FORMAT, 39) \
    X(NMERR_COULD_NOT_CREATE_TEMPFILE, 40) \
    X(NMERR_OUT_OF_DOS_MEMORY, 41) \
    X(NMERR_NO_PROTOCOLS_ENABLED, 42) \
    X(NMERR_UNKNOWN_MACTYPE, 46) \
    X(NMERR_ROUTING_INFO_NOT_PRESENT, 47) \
    X(NMERR_INVALID_HNETWORK, 48) \
    X(NMERR_NETWORK_ALREADY_OPENED, 49) \
    X(NMERR_NETWORK_NOT_OPENED, 50) \
    X(NMERR_FRAME_NOT_FOUND, 51) \
    X(NMERR_NO_HANDLES, 53) \
    X(NMERR_INVALID_NETWORK_ID, 54) \
    X(NMERR_INVALID_HCAPTURE, 55) \
    X(NMERR_PROTOCOL_ALREADY_ENABLED, 56) \
    X(NMERR_FILTER_INVALID_EXPRESSION, 57) \
    X(NMERR_TRANSMIT_ERROR, 58) \
    X(NMERR_INVALID_HBUFFER, 59) \
    X(NMERR_INVALID_DATA, 60) \
    X(NMERR_MSDOS_DRIVER_NOT_LOADED, 61) \
    X(NMERR_WINDOWS_DRIVER_NOT_LOADED, 62) \
    X(NMERR_MSDOS_DRIVER_INIT_FAILURE, 63) \
    X(NMERR_WINDOWS_DRIVER_INIT_FAILURE, 64) \
    X(NMERR_NETWORK_BUSY, 65) \
    X(NMERR_CAPTURE_NOT_PAUSED, 66) \
    X(NMERR_INVALID_PACKET_LENGTH, 67) \
    X(NMERR_INTERNAL_EXCEPTION, 69) \
    X(NMERR_PROMISCUOUS_MODE_NOT_SUPPORTED, 70) \
    X(NMERR_MAC_DRIVER_OPEN_FAILURE, 71) \
    X(NMERR_RUNAWAY_PROTOCOL, 72) \
    X(NMERR_PENDING, 73) \
    X(NMERR_ACCESS_DENIED, 74) \
    X(NMERR_INVALID_HPASSWORD, 75) \
    X(NMERR_INVALID_PARAMETER, 76) \
    X(NMERR_FILE_READ_ERROR, 77) \
    X(NMERR_FILE_WRITE_ERROR, 78) \
    X(NMERR_PROTOCOL_NOT_REGISTERED, 79) \
    X(NMERR_IP_ADDRESS_NOT_FOUND, 80) \
    X(NMERR_TRANSMIT_CANCELLED, 81) \
    X(NMERR_LOCKED_FRAMES, 82) \
    X(NMERR_NO_TRANSMITS_PENDING, 83) \
    X(NMERR_PATH_NOT_FOUND, 84) \
    X(NMERR_WINDOWS_ERROR, 85) \
    X(NMERR_NO_FRAME_NUMBER, 86) \
    X(NMERR_FRAME_HAS_NO_CAPTURE, 87) \
    X(NMERR_FRAME_ALREADY_HAS_CAPTURE, 88) \
    X(NMERR_NAL_IS_NOT_REMOTE, 89) \
    X(NMERR_NOT_SUPPORTED, 90) \
    X(NMERR_DISCARD_FRAME, 91) \
    X(NMERR_CANCEL_SAVE_CAPTURE, 92) \
    X(NMERR_LOST_CONNECTION, 93) \
    X(NMERR_INVALID_MEDIA_TYPE, 94) \
    X(NMERR_AGENT_IN_USE, 95) \
    X(NMERR_TIMEOUT, 96) \
    X(NMERR_DISCONNECTED, 97) \
    X(NMERR_SETTIMER_FAILED, 98) \
    X(NMERR_NETWORK_ERROR, 99) \
    X(NMERR_INVALID_FRAMESPROC, 100) \
    X(NMERR_UNKNOWN_CAPTURETYPE, 101) \
    X(NMERR_NOT_CONNECTED, 102) \
    X(NMERR_ALREADY_CONNECTED, 103) \
    X(NMERR_INVALID_REGISTRY_CONFIGURATION, 104) \
    X(NMERR_DELAYED, 105) \
    X(NMERR_NOT_DELAYED, 106) \
    X(NMERR_REALTIME, 107) \
    X(NMERR_NOT_REALTIME, 108) \
    X(NMERR_STATS_ONLY, 109) \
    X(NMERR_NOT_STATS_ONLY, 110) \
    X(NMERR_TRANSMIT, 111) \
    X(NMERR_NOT_TRANSMIT, 112) \
    X(NMERR_TRANSMITTING, 113) \
    X(NMERR_DISK_NOT_LOCAL_FIXED, 114) \
    X(NMERR_COULD_NOT_CREATE_DIRECTORY, 115) \
    X(NMERR_NO_DEFAULT_CAPTURE_DIRECTORY, 116) \
    X(NMERR_UPLEVEL_CAPTURE_FILE, 117) \
    X(NMERR_LOAD_EXPERT_FAILED, 118) \
    X(NMERR_EXPERT_REPORT_FAILED, 119) \
    X(NMERR_REG_OPERATION_FAILED, 120) \
    X(NMERR_NO_DLLS_FOUND, 121) \
    X(NMERR_NO_CONVERSATION_STATS, 122) \
    X(NMERR_SECURITY_BREACH_CAPTURE_DELETED, 123) \
    X(NMERR_FRAME_FAILED_FILTER, 124) \
    X(NMERR_EXPERT_TERMINATE, 125) \
    X(NMERR_REMOTE_NOT_A_SERVER, 126) \
    X(NMERR_REMOTE_VERSION_OUTOFSYNC, 127) \
    X(NMERR_INVALID_EXPERT_GROUP, 128) \
    X(NMERR_INVALID_EXPERT_NAME, 129) \
    X(NMERR_INVALID_EXPERT_HANDLE, 130) \
    X(NMERR_GROUP_NAME_ALREADY_EXISTS, 131) \
    X(NMERR_INVALID_GROUP_NAME, 132) \
    X(NMERR_EXPERT_ALREADY_IN_GROUP, 133) \
    X(NMERR_EXPERT_NOT_IN_GROUP, 134) \
    X(NMERR_NOT_INITIALIZED, 135) \
    X(NMERR_INVALID_GROUP_ROOT, 136) \
    X(NMERR_BAD_VERSION, 137) \
    X(NMERR_ESP, 138) \
    X(NMERR_NOT_ESP, 139) \
    X(NMERR_BLOB_NOT_INITIALIZED, 1000) \
    X(NMERR_INVALID_BLOB, 1001) \
    X(NMERR_UPLEVEL_BLOB, 1002) \
    X(NMERR_BLOB_ENTRY_ALREADY_EXISTS, 1003) \
    X(NMERR_BLOB_ENTRY_DOES_NOT_EXIST, 1004) \
    X(NMERR_AMBIGUOUS_SPECIFIER, 1005) \
    X(NMERR_BLOB_OWNER_NOT_FOUND, 1006) \
    X(NMERR_BLOB_CATEGORY_NOT_FOUND, 1007) \
    X(NMERR_UNKNOWN_CATEGORY, 1008) \
    X(NMERR_UNKNOWN_TAG, 1009) \
    X(NMERR_BLOB_CONVERSION_ERROR, 1010) \
    X(NMERR_ILLEGAL_TRIGGER, 1011) \
    X(NMERR_BLOB_STRING_INVALID, 1012) \
    X(NMERR_UNABLE_TO_LOAD_LIBRARY, 1013) \
    X(NMERR_UNABLE_TO_GET_PROCADDR, 1014) \
    X(NMERR_CLASS_NOT_REGISTERED, 1015) \
    X(NMERR_INVALID_REMOTE_COMPUTERNAME, 1016) \
    X(NMERR_RPC_REMOTE_FAILURE, 1017) \
    X(NMERR_NO_NPPS, 3016) \
    X(NMERR_NO_MATCHING_NPPS, 3017) \
    X(NMERR_NO_NPP_SELECTED, 3018) \
    X(NMERR_NO_INPUT_BLOBS, 3019) \
    X(NMERR_NO_NPP_DLLS, 3020) \
    X(NMERR_NO_VALID_NPP_DLLS, 3021) \
    X(NMERR_INVALID_LIST_INDEX, 2000) \
    X(NMERR_INVALID_MONITOR, 2001) \
    X(NMERR_INVALID_MONITOR_DLL, 2002) \
    X(NMERR_UNABLE_TO_CREATE_MONITOR, 2003) \
    X(NMERR_INVALID_MONITOR_CONFIG, 2005) \
    X(NMERR_INVALID_INDEX, 2006) \
    X(NMERR_MONITOR_ENABLED, 2007) \
    X(NMERR_MONITOR_NOT_RUNNING, 2008) \
    X(NMERR_MONITOR_IS_BUSY, 2009) \
    X(NMERR_MCS_IS_BUSY, 2010) \
    X(NMERR_NO_MONITORS, 2011) \
    X(NMERR_ONE_MONITOR_PER_NETCARD, 2012) \
    X(NMERR_CONFIGURATION_REQUIRED, 2013) \
    X(NMERR_MONITOR_NOT_CONNECTED, 2014) \
    X(NMERR_MONITOR_NOT_CONFIGURED, 2015) \
    X(NMERR_MONITOR_CONFIG_FAILED, 2016) \
    X(NMERR_MONITOR_INIT_FAILED, 2017) \
    X(NMERR_MONITOR_FAULTED, 2018) \
    X(NMERR_SAVE_ALL_FAILED, 2019) \
    X(NMERR_SAVE_MONITOR_FAILED, 2029) \
    X(NMERR_MONITOR_CONNECT_FAILED, 2021) \
    X(NMERR_MONITOR_START_FAILED, 2022) \
    X(NMERR_MONITOR_STOP_FAILED, 2023)

/* ------------------------------------------------------------------------ */
/* Compile-time checks                                                      */
/* ------------------------------------------------------------------------ */

#define STATIC_TYPE_WIDTH(type, width) \
    _Static_assert(sizeof(type) == (width), #type " must be " #width " bytes");
#define STATIC_STRUCT_SIZE(type, size) \
    _Static_assert(sizeof(type) == (size), "sizeof(" #type ") must be " #size);
#define STATIC_FIELD_OFFSET(type, field, offset) \
    _Static_assert(offsetof(type, field) == (offset), #type "." #field " must be at " #offset);
#define STATIC_MEMBER_SIZE(type, field, size) \
    _Static_assert(sizeof(((type *)0)->field) == (size), #type "." #field " must be " #size " bytes");
#define STATIC_CONSTANT(name, value) \
    _Static_assert((int64_t)(name) == (int64_t)(value), #name " must be " #value);

TYPE_WIDTHS(STATIC_TYPE_WIDTH)
STRUCT_SIZES(STATIC_STRUCT_SIZE)
FIELD_OFFSETS(STATIC_FIELD_OFFSET)
MEMBER_SIZES(STATIC_MEMBER_SIZE)
EXPERT_CONSTANTS(STATIC_CONSTANT)
EVENT_CONSTANTS(STATIC_CONSTANT)
FILTER_CONSTANTS(STATIC_CONSTANT)
NMERR_CODES(STATIC_CONSTANT)

_Static_assert((LONG)-1 < 0 && (DWORD)-1 > 0 && (WORD)-1 > 0 && (BYTE)-1 > 0,
               "LONG is signed; DWORD, WORD and BYTE are unsigned");
_Static_assert((uint32_t)NMERR_TO_HRESULT(NMERR_EXPERT_TERMINATE) == 0x8004007Du,
               "NMERR_TO_HRESULT puts the code under FACILITY_ITF with the error bit set");

/* ------------------------------------------------------------------------ */
/* The same tables at run time, one loop iteration per row                   */
/* ------------------------------------------------------------------------ */

struct size_row {
    const char *what;
    size_t actual;
    size_t expected;
};

struct constant_row {
    const char *name;
    int64_t actual;
    int64_t expected;
};

#define SIZE_ROW_TYPE(type, width) {#type, sizeof(type), (width)},
#define SIZE_ROW_STRUCT(type, size) {"sizeof(" #type ")", sizeof(type), (size)},
#define SIZE_ROW_OFFSET(type, field, offset) {"offsetof(" #type ", " #field ")", offsetof(type, field), (offset)},
#define SIZE_ROW_MEMBER(type, field, size) {"sizeof(" #type "." #field ")", sizeof(((type *)0)->field), (size)},
#define CONSTANT_ROW(name, value) {#name, (int64_t)(name), (int64_t)(value)},

static const struct size_row type_width_rows[] = {TYPE_WIDTHS(SIZE_ROW_TYPE)};
static const struct size_row struct_size_rows[] = {STRUCT_SIZES(SIZE_ROW_STRUCT)};
static const struct size_row field_offset_rows[] = {FIELD_OFFSETS(SIZE_ROW_OFFSET)};
static const struct size_row member_size_rows[] = {MEMBER_SIZES(SIZE_ROW_MEMBER)};
static const struct constant_row expert_constant_rows[] = {EXPERT_CONSTANTS(CONSTANT_ROW)};
static const struct constant_row event_constant_rows[] = {EVENT_CONSTANTS(CONSTANT_ROW)};
static const struct constant_row filter_constant_rows[] = {FILTER_CONSTANTS(CONSTANT_ROW)};
static const struct constant_row nmerr_rows[] = {NMERR_CODES(CONSTANT_ROW)};

#define ROW_COUNT(table) ((int)(sizeof(table) / sizeof((table)[0])))

static void check_size_row(const struct size_row *row)
{
    ck_assert_msg(row->actual == row->expected, "%s is %zu, expected %zu", row->what,
                  row->actual, row->expected);
}

static void check_constant_row(const struct constant_row *row)
{
    ck_assert_msg(row->actual == row->expected, "%s is %lld, expected %lld", row->name,
                  (long long)row->actual, (long long)row->expected);
}

START_TEST(type_widths)
{
    check_size_row(&type_width_rows[_i]);
}
END_TEST

START_TEST(struct_sizes)
{
    check_size_row(&struct_size_rows[_i]);
}
END_TEST

START_TEST(field_offsets)
{
    check_size_row(&field_offset_rows[_i]);
}
END_TEST

START_TEST(member_sizes)
{
    check_size_row(&member_size_rows[_i]);
}
END_TEST

START_TEST(expert_constants)
{
    check_constant_row(&expert_constant_rows[_i]);
}
END_TEST

START_TEST(event_constants)
{
    check_constant_row(&event_constant_rows[_i]);
}
END_TEST

START_TEST(filter_constants)
{
    check_constant_row(&filter_constant_rows[_i]);
}
END_TEST

START_TEST(nmerr_codes)
{
    check_constant_row(&nmerr_rows[_i]);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Properties that are not a single number                                  */
/* ------------------------------------------------------------------------ */

START_TEST(windows_types_have_windows_signedness)
{
    ck_assert((LONG)-1 < 0);
    ck_assert((BOOL)-1 < 0);
    ck_assert((DWORD)-1 == 0xFFFFFFFFu);
    ck_assert((WORD)-1 == 0xFFFFu);
    ck_assert((BYTE)-1 == 0xFFu);
    ck_assert((SIZE_T)-1 == SIZE_MAX);
}
END_TEST

/* The codes the expert helpers and the broker actually use, spelled out so
 * that a failure names the code an expert author would look for. */
START_TEST(nmerr_codes_experts_meet)
{
    ck_assert_uint_eq(NMERR_SUCCESS, 0);
    ck_assert_uint_eq(NMERR_NO_MORE_FRAMES, 5);
    ck_assert_uint_eq(NMERR_OUT_OF_MEMORY, 19);
    ck_assert_uint_eq(NMERR_OUT_OF_RANGE, 24);
    ck_assert_uint_eq(NMERR_FRAME_NOT_FOUND, 51);
    ck_assert_uint_eq(NMERR_INVALID_PARAMETER, 76);
    ck_assert_uint_eq(NMERR_LOAD_EXPERT_FAILED, 118);
    ck_assert_uint_eq(NMERR_EXPERT_REPORT_FAILED, 119);
    ck_assert_uint_eq(NMERR_EXPERT_TERMINATE, 125);
}
END_TEST

START_TEST(nmerr_codes_are_distinct)
{
    for (int first = 0; first < ROW_COUNT(nmerr_rows); first++) {
        for (int second = first + 1; second < ROW_COUNT(nmerr_rows); second++) {
            ck_assert_msg(nmerr_rows[first].actual != nmerr_rows[second].actual,
                          "%s and %s share the value %lld", nmerr_rows[first].name,
                          nmerr_rows[second].name, (long long)nmerr_rows[first].actual);
        }
    }
}
END_TEST

/* 0-139 with the reference's five gaps, 13 BLOB, 5+6 Finder, 23 Monitor. */
START_TEST(nmerr_table_covers_every_family)
{
    int core = 0, blob = 0, finder = 0, monitor = 0;
    for (int row = 0; row < ROW_COUNT(nmerr_rows); row++) {
        int64_t code = nmerr_rows[row].expected;
        if (code <= 139) {
            ck_assert_msg(code != 43 && code != 44 && code != 45 && code != 52 && code != 68,
                          "%s uses a value the reference leaves unassigned", nmerr_rows[row].name);
            core++;
        } else if (code >= 1000 && code <= 1012) {
            blob++;
        } else if ((code >= 1013 && code <= 1017) || (code >= 3016 && code <= 3021)) {
            finder++;
        } else if (code >= 2000 && code <= 2029) {
            monitor++;
        } else {
            ck_abort_msg("%s = %lld is outside every family", nmerr_rows[row].name, (long long)code);
        }
    }
    ck_assert_int_eq(core, 135);
    ck_assert_int_eq(blob, 13);
    ck_assert_int_eq(finder, 11);
    ck_assert_int_eq(monitor, 23);
}
END_TEST

START_TEST(nmerr_hresult_bridge)
{
    ck_assert_int_eq(NMERR_TO_HRESULT(NMERR_SUCCESS), 0);
    ck_assert_uint_eq((uint32_t)NMERR_TO_HRESULT(NMERR_EXPERT_TERMINATE), 0x8004007Du);
    ck_assert_uint_eq((uint32_t)NMERR_TO_HRESULT(NMERR_MONITOR_STOP_FAILED), 0x800407E7u);
    ck_assert_uint_eq(HRESULT_TO_NMERR((HRESULT)0), NMERR_SUCCESS);
    /* Every code survives the round trip, and every failure is a negative
     * HRESULT, which is what the FAILED() test of COM callers looks at. */
    for (int row = 0; row < ROW_COUNT(nmerr_rows); row++) {
        DWORD code = (DWORD)nmerr_rows[row].actual;
        HRESULT bridged = NMERR_TO_HRESULT(code);
        ck_assert_msg(HRESULT_TO_NMERR(bridged) == code, "%s does not survive the round trip",
                      nmerr_rows[row].name);
        ck_assert_msg(code == NMERR_SUCCESS || bridged < 0, "%s does not map to a failure HRESULT",
                      nmerr_rows[row].name);
    }
}
END_TEST

START_TEST(fixed_columns_flag_is_the_union_of_all_seven)
{
    DWORD all_seven = NMEVENTFLAG_DO_NOT_DISPLAY_SEVERITY | NMEVENTFLAG_DO_NOT_DISPLAY_SOURCE |
                      NMEVENTFLAG_DO_NOT_DISPLAY_EVENT_NAME | NMEVENTFLAG_DO_NOT_DISPLAY_DESCRIPTION |
                      NMEVENTFLAG_DO_NOT_DISPLAY_MACHINE | NMEVENTFLAG_DO_NOT_DISPLAY_TIME |
                      NMEVENTFLAG_DO_NOT_DISPLAY_DATE;
    ck_assert_uint_eq(NMEVENTFLAG_DO_NOT_DISPLAY_FIXED_COLUMNS, all_seven);
}
END_TEST

START_TEST(entry_point_names)
{
    ck_assert_str_eq(EXPERTENTRY_REGISTER, "Register");
    ck_assert_str_eq(EXPERTENTRY_CONFIGURE, "Configure");
    ck_assert_str_eq(EXPERTENTRY_RUN, "Run");
}
END_TEST

/* The documented allocation idiom, sizeof(NMEVENTDATA) + (N-1) columns,
 * must give room for exactly N columns, since Column[1] is counted in
 * sizeof.  The digest's "+ N" idiom merely over-allocates by one. */
START_TEST(event_allocation_idiom_fits_n_columns)
{
    for (size_t columns = 1; columns <= 255; columns++) {
        size_t allocated = sizeof(NMEVENTDATA) + (columns - 1) * sizeof(NMCOLUMNINFO);
        size_t needed = offsetof(NMEVENTDATA, Column) + columns * sizeof(NMCOLUMNINFO);
        ck_assert_uint_eq(allocated, needed);
    }
}
END_TEST

/* FRAME is a header followed by the frame bytes; nothing may pad MacFrame
 * away from the header, because the frame store lays frames out back to back. */
START_TEST(frame_bytes_follow_the_header)
{
    ck_assert_uint_eq(offsetof(FRAME, MacFrame), sizeof(FRAME));
    ck_assert_uint_eq(sizeof(FRAME), 16);
}
END_TEST

static Suite *layout_suite(void)
{
    Suite *suite = suite_create("layout");

    TCase *sizes = tcase_create("sizes");
    tcase_add_loop_test(sizes, type_widths, 0, ROW_COUNT(type_width_rows));
    tcase_add_loop_test(sizes, struct_sizes, 0, ROW_COUNT(struct_size_rows));
    tcase_add_loop_test(sizes, field_offsets, 0, ROW_COUNT(field_offset_rows));
    tcase_add_loop_test(sizes, member_sizes, 0, ROW_COUNT(member_size_rows));
    tcase_add_test(sizes, windows_types_have_windows_signedness);
    tcase_add_test(sizes, event_allocation_idiom_fits_n_columns);
    tcase_add_test(sizes, frame_bytes_follow_the_header);
    suite_add_tcase(suite, sizes);

    TCase *constants = tcase_create("constants");
    tcase_add_loop_test(constants, expert_constants, 0, ROW_COUNT(expert_constant_rows));
    tcase_add_loop_test(constants, event_constants, 0, ROW_COUNT(event_constant_rows));
    tcase_add_loop_test(constants, filter_constants, 0, ROW_COUNT(filter_constant_rows));
    tcase_add_test(constants, fixed_columns_flag_is_the_union_of_all_seven);
    tcase_add_test(constants, entry_point_names);
    suite_add_tcase(suite, constants);

    TCase *errors = tcase_create("nmerr");
    tcase_add_loop_test(errors, nmerr_codes, 0, ROW_COUNT(nmerr_rows));
    tcase_add_test(errors, nmerr_codes_experts_meet);
    tcase_add_test(errors, nmerr_codes_are_distinct);
    tcase_add_test(errors, nmerr_table_covers_every_family);
    tcase_add_test(errors, nmerr_hresult_bridge);
    suite_add_tcase(suite, errors);

    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(layout_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failures = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
