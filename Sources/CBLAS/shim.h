#ifndef DUET_CBLAS_SHIM_H
#define DUET_CBLAS_SHIM_H
#include <cblas.h>
#endif
