#include "netmon.h"
BOOL WINAPI Register(PEXPERTENUMINFO p){(void)p;return TRUE;}
