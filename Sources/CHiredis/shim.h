#ifndef DUET_CHIREDIS_SHIM_H
#define DUET_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
