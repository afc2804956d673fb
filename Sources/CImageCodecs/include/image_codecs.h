// Decoding and encoding through libjpeg-turbo, libpng and libwebp, with their longjmp-based error handling kept
// on the C side.
//
// Every entry point is flat, reentrant (no global state) and returns an `ic_status`. On failure the caller's
// `ic_error` holds a message naming what went wrong; nothing is allocated. Pixel buffers handed back are allocated
// with malloc and owned by the caller, who releases them with `ic_free`.
//
// Decoded images are always 8-bit RGB, rows packed (stride = 3 * width), in the file's stored orientation: the
// EXIF orientation is reported, never applied here.
#ifndef IMAGE_CODECS_H
#define IMAGE_CODECS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  IC_OK = 0,
  /// The bytes start with no signature we know (JPEG, PNG, WebP).
  IC_ERROR_UNKNOWN_FORMAT = 1,
  /// The data ends before the image does (premature end of data).
  IC_ERROR_TRUNCATED = 2,
  /// The data is malformed.
  IC_ERROR_CORRUPT = 3,
  /// width × height exceeds the caller's pixel limit (refused before allocating).
  IC_ERROR_TOO_LARGE = 4,
  /// A well-formed file using a feature we do not decode (animation, 12-bit JPEG, ...).
  IC_ERROR_UNSUPPORTED = 5,
  IC_ERROR_OUT_OF_MEMORY = 6,
  /// The caller passed an invalid argument (null pointer, zero size, bad quality, ...).
  IC_ERROR_INVALID_ARGUMENT = 7,
} ic_status;

typedef enum {
  IC_FORMAT_UNKNOWN = 0,
  IC_FORMAT_JPEG = 1,
  IC_FORMAT_PNG = 2,
  IC_FORMAT_WEBP = 3,
} ic_format;

/// How the pixels are stored in the file.
typedef enum {
  IC_COLOR_UNKNOWN = 0,
  IC_COLOR_GRAY = 1,
  IC_COLOR_GRAY_ALPHA = 2,
  IC_COLOR_RGB = 3,
  IC_COLOR_RGBA = 4,
  IC_COLOR_PALETTE = 5,
  /// JPEG YCbCr (the usual colour JPEG).
  IC_COLOR_YCBCR = 6,
  IC_COLOR_CMYK = 7,
  IC_COLOR_YCCK = 8,
} ic_color;

/// What becomes of an alpha channel when decoding to RGB.
typedef enum {
  /// Composites over opaque white: out = (c·a + 255·(255 − a)) / 255, in the stored (sRGB-encoded) values.
  /// What a viewer shows on a white page; transparent pixels often hold arbitrary colour, which this hides.
  IC_ALPHA_COMPOSITE_WHITE = 0,
  /// Drops the alpha channel and keeps the stored colour (what Pillow's convert("RGB") does).
  IC_ALPHA_DROP = 1,
} ic_alpha_mode;

typedef struct {
  /// Human-readable reason for a failure ("" on success).
  char message[200];
  /// Recoverable problems the decoder worked around (libjpeg's "corrupt data" warnings, libpng's benign errors).
  int32_t warnings;
} ic_error;

/// What a header says, read without decoding pixels.
typedef struct {
  ic_format format;
  /// Stored dimensions (before any EXIF orientation).
  int32_t width;
  int32_t height;
  /// Colour model of the stored samples, and the sample depth in bits (1, 2, 4, 8, 16).
  ic_color color;
  int32_t bit_depth;
  int32_t has_alpha;
  /// EXIF orientation 1...8 (1 = upright; also when the file has no EXIF or an invalid value).
  int32_t orientation;
  /// JPEG: progressive (SOF2/SOF6/SOF10/SOF14); PNG: Adam7 interlaced; WebP: 0.
  int32_t progressive;
  /// WebP: animated (we decode no animation). 0 otherwise.
  int32_t animated;
  /// JPEG: an Adobe APP14 marker is present (for CMYK it means the samples are stored inverted).
  int32_t adobe_marker;
} ic_info;

typedef struct {
  /// Refuse images with more than this many pixels before allocating anything; 0 means no limit.
  uint64_t max_pixels;
  /// JPEG only: when both are positive, decode at the smallest DCT scale M/8 (M = 1...8) whose output is still at
  /// least min_width × min_height (stored orientation). 0 decodes at full size.
  int32_t min_width;
  int32_t min_height;
  /// JPEG only: allow only the SIMD-accelerated reductions 1/2, 1/4, 1/8 (otherwise any M/8).
  int32_t power_of_two_scaling_only;
  ic_alpha_mode alpha_mode;
  /// JPEG only: any libjpeg warning ("corrupt JPEG data: ...") fails the decode. Premature end of data always does.
  int32_t strict;
  /// JPEG only: refuse progressive files with more scans than this (a known CPU exhaustion vector); 0 = 1000.
  int32_t max_scans;
} ic_decode_options;

/// Fills `options` with the defaults: no pixel limit, full size, composite on white, not strict, 1000 scans.
void ic_decode_options_init(ic_decode_options *options);

/// The format named by the leading bytes (magic numbers), IC_FORMAT_UNKNOWN when none matches.
ic_format ic_sniff(const uint8_t *data, size_t size);

/// Reads the header (JPEG markers up to the first scan, PNG chunks up to IDAT, WebP RIFF chunks) without decoding.
ic_status ic_probe(const uint8_t *data, size_t size, ic_info *info, ic_error *error);

/// Decodes to packed 8-bit RGB. On success `*pixels` (malloc'd, 3·width·height bytes) belongs to the caller,
/// `*width`/`*height` are the decoded size (smaller than the stored one when JPEG DCT scaling applied) and `info`
/// (optional) describes the file.
ic_status ic_decode_rgb(const uint8_t *data, size_t size, const ic_decode_options *options, uint8_t **pixels,
                        int32_t *width, int32_t *height, ic_info *info, ic_error *error);

/// The decoded size `ic_decode_rgb` produces for these options, from the header alone.
ic_status ic_decoded_size(const uint8_t *data, size_t size, const ic_decode_options *options, int32_t *width,
                          int32_t *height, ic_error *error);

typedef enum {
  IC_SUBSAMPLING_420 = 0,
  IC_SUBSAMPLING_422 = 1,
  IC_SUBSAMPLING_444 = 2,
} ic_subsampling;

typedef enum {
  /// `components` = 1 grey, 3 RGB (stored as YCbCr), 4 CMYK stored as written.
  IC_JPEG_DEFAULT = 0,
  /// `components` = 4: CMYK converted to YCCK by libjpeg.
  IC_JPEG_YCCK = 1,
} ic_jpeg_color;

typedef struct {
  int32_t quality;  // 1...100
  ic_subsampling subsampling;
  ic_jpeg_color color;
  int32_t progressive;
  int32_t optimize_coding;
} ic_jpeg_options;

/// Encodes interleaved 8-bit samples (`components` 1, 3 or 4, rows `stride` bytes apart) as JPEG. CMYK input is
/// written with libjpeg's Adobe marker; readers following Adobe treat such samples as inverted (0 = full ink).
/// On success `*output` (malloc'd) and `*output_size` belong to the caller.
ic_status ic_encode_jpeg(const uint8_t *pixels, int32_t width, int32_t height, size_t stride, int32_t components,
                         const ic_jpeg_options *options, uint8_t **output, size_t *output_size, ic_error *error);

typedef struct {
  /// Colour type of the input samples: GRAY, GRAY_ALPHA, RGB, RGBA or PALETTE (one index per pixel).
  ic_color color;
  /// 1, 2, 4, 8 (grey or palette) or 16 (non-palette). 16-bit samples are native-endian uint16_t.
  /// Below 8, samples are given one per byte and packed by the encoder.
  int32_t bit_depth;
  /// zlib level 0...9, or -1 for libpng's default.
  int32_t compression_level;
  int32_t interlaced;
  /// PALETTE only: `palette_count` RGB triples, and optional per-entry alpha (`transparency_count` ≤ palette_count).
  const uint8_t *palette;
  int32_t palette_count;
  const uint8_t *transparency;
  int32_t transparency_count;
} ic_png_options;

/// Encodes samples as PNG, rows `stride` bytes apart. On success `*output` (malloc'd) belongs to the caller.
ic_status ic_encode_png(const void *pixels, int32_t width, int32_t height, size_t stride, const ic_png_options *options,
                        uint8_t **output, size_t *output_size, ic_error *error);

/// Encodes 8-bit RGB (`channels` 3) or RGBA (`channels` 4) as WebP: lossy at `quality` 0...100, or lossless.
ic_status ic_encode_webp(const uint8_t *pixels, int32_t width, int32_t height, size_t stride, int32_t channels,
                         float quality, int32_t lossless, uint8_t **output, size_t *output_size, ic_error *error);

/// Releases a buffer returned by this library.
void ic_free(void *pointer);

#ifdef __cplusplus
}
#endif
#endif
