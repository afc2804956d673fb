// Shared helpers of the codec files; not part of the public header.
#ifndef IMAGE_CODECS_INTERNAL_H
#define IMAGE_CODECS_INTERNAL_H
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "image_codecs.h"

/// Records a failure: formats the message into `error` (which may be NULL) and returns `status`.
static inline ic_status ic_fail(ic_error *error, ic_status status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static inline ic_status ic_fail(ic_error *error, ic_status status, const char *format, ...) {
  if (error != NULL) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error->message, sizeof error->message, format, arguments);
    va_end(arguments);
  }
  return status;
}

static inline void ic_error_reset(ic_error *error) {
  if (error != NULL) {
    error->message[0] = '\0';
    error->warnings = 0;
  }
}

/// Exact round(a · b / 255) for a, b in 0...255.
static inline uint8_t ic_mul255(unsigned a, unsigned b) {
  unsigned t = a * b + 128;
  return (uint8_t)((t + (t >> 8)) >> 8);
}

/// Exact round(v / 255) for v in 0...255·255.
static inline uint8_t ic_div255(unsigned v) {
  v += 128;
  return (uint8_t)((v + (v >> 8)) >> 8);
}

/// Converts `count` RGBA pixels to RGB in place (the output trails the input, so a forward pass is safe).
void ic_rgba_to_rgb(uint8_t *pixels, size_t count, ic_alpha_mode mode);

/// Checks width × height against the caller's limit.
ic_status ic_check_pixels(ic_format format, int64_t width, int64_t height, uint64_t max_pixels, ic_error *error);

/// The EXIF orientation (1...8) in a TIFF structure ("II*\0" or "MM\0*" ...), 1 when absent or invalid.
int32_t ic_exif_orientation(const uint8_t *tiff, size_t size);

const char *ic_format_name(ic_format format);

ic_status ic_probe_jpeg(const uint8_t *data, size_t size, ic_info *info, ic_error *error);
ic_status ic_probe_png(const uint8_t *data, size_t size, ic_info *info, ic_error *error);
ic_status ic_probe_webp(const uint8_t *data, size_t size, ic_info *info, ic_error *error);

/// The DCT scale numerator M (of M/8) the JPEG decoder uses for these options.
int32_t ic_jpeg_scale(const ic_info *info, const ic_decode_options *options);

ic_status ic_decode_jpeg(const uint8_t *data, size_t size, const ic_decode_options *options, const ic_info *info,
                         uint8_t **pixels, int32_t *width, int32_t *height, ic_error *error);
ic_status ic_decode_png(const uint8_t *data, size_t size, const ic_decode_options *options, const ic_info *info,
                        uint8_t **pixels, int32_t *width, int32_t *height, ic_error *error);
ic_status ic_decode_webp(const uint8_t *data, size_t size, const ic_decode_options *options, const ic_info *info,
                         uint8_t **pixels, int32_t *width, int32_t *height, ic_error *error);

/// A growing output buffer for the encoders (malloc/realloc, so the result can be handed to the caller).
typedef struct {
  uint8_t *data;
  size_t size;
  size_t capacity;
  int failed;
} ic_buffer;

/// Makes room for `extra` more bytes; returns 0 (and sets `failed`) when memory runs out.
int ic_buffer_reserve(ic_buffer *buffer, size_t extra);

#endif
