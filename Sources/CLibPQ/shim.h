#ifndef ACCORD_CLIBPQ_SHIM_H
#define ACCORD_CLIBPQ_SHIM_H
#include <libpq-fe.h>
// mallopt: PostgresMemory.configure() keeps libpq's large result buffers out of malloc's arenas.
#include <malloc.h>
#endif
