/*
 * cli_faults.h - `expert-broker faults`: the fault-injection sweep's
 * command line (cli_faults.c), kept apart from cli.c.
 */
#ifndef ES_CLI_FAULTS_H
#define ES_CLI_FAULTS_H

/* argv[0] is "faults".  Returns the exit status. */
int es_cli_faults(int argc, char **argv);

#endif
