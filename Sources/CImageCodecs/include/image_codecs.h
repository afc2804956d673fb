// Decoding and encoding through libjpeg-turbo, libpng and libwebp, with their longjmp-based error handling kept
// on the C side. Filled in by the Imaging work.
#ifndef IMAGE_CODECS_H
#define IMAGE_CODECS_H
#include <stddef.h>
#include <stdint.h>
#endif
