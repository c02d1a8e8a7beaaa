/*
 * version.c - the commit this program was built from (util.h). The only
 * file compiled with the commit in its flags, so that a new commit
 * rebuilds one object, not the project.
 */
#include "util/util.h"

#ifndef IGNITER_COMMIT
#define IGNITER_COMMIT "unknown"
#endif

const char *ut_commit(void) { return IGNITER_COMMIT; }
