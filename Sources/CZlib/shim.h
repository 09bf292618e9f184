#ifndef ACCORD_CZLIB_SHIM_H
#define ACCORD_CZLIB_SHIM_H
#include <zlib.h>
#endif
