/* cli_faults.c - `expert-broker faults` (being written). */
#include "cli_faults.h"

#include <stdio.h>

int es_cli_faults(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "expert-broker: faults: not available yet\n");
    return 2;
}
