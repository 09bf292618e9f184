#ifndef ACCORD_CLIBPQ_SHIM_H
#define ACCORD_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
