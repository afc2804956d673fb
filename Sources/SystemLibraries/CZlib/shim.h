#include <zlib.h>

/* inflateInit2 is a C macro, which Swift cannot call. Window bits 15 + 32 let inflate recognise both gzip and
   zlib headers by themselves. */
static inline int czlib_inflate_init(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}
