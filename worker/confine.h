/*
 * confine.h - the worker confines itself in stages, before any expert code
 * runs (a constructor runs at dlopen) and again before Register.
 *
 * Each stage is one call here, so main.c reads as the order of events and
 * every confinement decision lives in this file.
 */
#ifndef ES_CONFINE_H
#define ES_CONFINE_H

/* Before the expert is loaded: die with the broker, no core dumps, not
 * dumpable, no new privileges.  Returns 0, or -1 with a reason in `why`. */
int es_confine_before_load(char *why, unsigned long whylen);

#endif
