/* Internals of lib/raster shared between its files. */
#ifndef VG_RASTER_INT_H
#define VG_RASTER_INT_H

#include "vigia/raster.h"

/* Registers GDAL's drivers once, with errors kept out of stderr (they reach us through CPLGetLastErrorMsg). */
void vg__raster_gdal_init(void);

#endif
