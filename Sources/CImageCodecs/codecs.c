// Format sniffing, dispatch and the helpers the codec files share.
#include <stdlib.h>

#include "internal.h"

void ic_decode_options_init(ic_decode_options *options) {
  memset(options, 0, sizeof *options);
  options->alpha_mode = IC_ALPHA_COMPOSITE_WHITE;
  options->max_scans = 1000;
}

const char *ic_format_name(ic_format format) {
  switch (format) {
    case IC_FORMAT_JPEG: return "JPEG";
    case IC_FORMAT_PNG: return "PNG";
    case IC_FORMAT_WEBP: return "WebP";
    default: return "unknown";
  }
}

ic_format ic_sniff(const uint8_t *data, size_t size) {
  if (data == NULL) return IC_FORMAT_UNKNOWN;
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return IC_FORMAT_JPEG;
  static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 8 && memcmp(data, png_signature, 8) == 0) return IC_FORMAT_PNG;
  if (size >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0) return IC_FORMAT_WEBP;
  return IC_FORMAT_UNKNOWN;
}

ic_status ic_probe(const uint8_t *data, size_t size, ic_info *info, ic_error *error) {
  ic_error_reset(error);
  if (info == NULL) return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "no info to fill");
  memset(info, 0, sizeof *info);
  info->orientation = 1;
  if (data == NULL || size == 0) return ic_fail(error, IC_ERROR_TRUNCATED, "no data (empty input)");
  switch (ic_sniff(data, size)) {
    case IC_FORMAT_JPEG: return ic_probe_jpeg(data, size, info, error);
    case IC_FORMAT_PNG: return ic_probe_png(data, size, info, error);
    case IC_FORMAT_WEBP: return ic_probe_webp(data, size, info, error);
    default: return ic_fail(error, IC_ERROR_UNKNOWN_FORMAT, "not a JPEG, PNG or WebP signature");
  }
}

static const ic_decode_options *resolve_options(const ic_decode_options *options, ic_decode_options *storage) {
  if (options != NULL) return options;
  ic_decode_options_init(storage);
  return storage;
}

ic_status ic_decoded_size(const uint8_t *data, size_t size, const ic_decode_options *options, int32_t *width,
                          int32_t *height, ic_error *error) {
  ic_decode_options defaults;
  options = resolve_options(options, &defaults);
  ic_info info;
  ic_status status = ic_probe(data, size, &info, error);
  if (status != IC_OK) return status;
  int32_t scale = info.format == IC_FORMAT_JPEG ? ic_jpeg_scale(&info, options) : 8;
  *width = (int32_t)(((int64_t)info.width * scale + 7) / 8);
  *height = (int32_t)(((int64_t)info.height * scale + 7) / 8);
  return IC_OK;
}

ic_status ic_decode_rgb(const uint8_t *data, size_t size, const ic_decode_options *options, uint8_t **pixels,
                        int32_t *width, int32_t *height, ic_info *info_out, ic_error *error) {
  if (pixels == NULL || width == NULL || height == NULL)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "missing output pointer");
  *pixels = NULL;
  *width = 0;
  *height = 0;
  ic_decode_options defaults;
  options = resolve_options(options, &defaults);
  ic_info info;
  // The header is read first, by our own parser, so that the pixel limit is enforced before any library allocates.
  ic_status status = ic_probe(data, size, &info, error);
  if (info_out != NULL) *info_out = info;
  if (status != IC_OK) return status;
  status = ic_check_pixels(info.format, info.width, info.height, options->max_pixels, error);
  if (status != IC_OK) return status;
  switch (info.format) {
    case IC_FORMAT_JPEG: return ic_decode_jpeg(data, size, options, &info, pixels, width, height, error);
    case IC_FORMAT_PNG: return ic_decode_png(data, size, options, &info, pixels, width, height, error);
    case IC_FORMAT_WEBP: return ic_decode_webp(data, size, options, &info, pixels, width, height, error);
    default: return ic_fail(error, IC_ERROR_UNKNOWN_FORMAT, "not a JPEG, PNG or WebP signature");
  }
}

ic_status ic_check_pixels(ic_format format, int64_t width, int64_t height, uint64_t max_pixels, ic_error *error) {
  if (width <= 0 || height <= 0)
    return ic_fail(error, IC_ERROR_CORRUPT, "%s header gives an empty size %lldx%lld", ic_format_name(format),
                   (long long)width, (long long)height);
  uint64_t pixels = (uint64_t)width * (uint64_t)height;
  if (max_pixels != 0 && pixels > max_pixels)
    return ic_fail(error, IC_ERROR_TOO_LARGE, "%s of %lldx%lld = %llu pixels exceeds the limit of %llu pixels",
                   ic_format_name(format), (long long)width, (long long)height, (unsigned long long)pixels,
                   (unsigned long long)max_pixels);
  // 3 bytes per pixel (4 while compositing alpha) must fit in memory sizes.
  if (pixels > (uint64_t)(SIZE_MAX / 8))
    return ic_fail(error, IC_ERROR_TOO_LARGE, "%s of %lldx%lld pixels cannot be addressed", ic_format_name(format),
                   (long long)width, (long long)height);
  return IC_OK;
}

void ic_rgba_to_rgb(uint8_t *pixels, size_t count, ic_alpha_mode mode) {
  const uint8_t *in = pixels;
  uint8_t *out = pixels;
  if (mode == IC_ALPHA_DROP) {
    for (size_t i = 0; i < count; i++, in += 4, out += 3) {
      out[0] = in[0];
      out[1] = in[1];
      out[2] = in[2];
    }
    return;
  }
  for (size_t i = 0; i < count; i++, in += 4, out += 3) {
    unsigned alpha = in[3];
    unsigned background = 255u * (255u - alpha);
    out[0] = ic_div255(in[0] * alpha + background);
    out[1] = ic_div255(in[1] * alpha + background);
    out[2] = ic_div255(in[2] * alpha + background);
  }
}

static unsigned read16(const uint8_t *p, int big_endian) {
  return big_endian ? (unsigned)(p[0] << 8 | p[1]) : (unsigned)(p[1] << 8 | p[0]);
}

static uint32_t read32(const uint8_t *p, int big_endian) {
  return big_endian ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
                    : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

int32_t ic_exif_orientation(const uint8_t *tiff, size_t size) {
  // Some writers keep the "Exif\0\0" prefix of the JPEG segment in PNG eXIf / WebP EXIF chunks.
  if (size >= 6 && memcmp(tiff, "Exif\0\0", 6) == 0) {
    tiff += 6;
    size -= 6;
  }
  if (size < 8) return 1;
  int big_endian;
  if (tiff[0] == 'I' && tiff[1] == 'I') big_endian = 0;
  else if (tiff[0] == 'M' && tiff[1] == 'M') big_endian = 1;
  else return 1;
  if (read16(tiff + 2, big_endian) != 42) return 1;
  uint32_t ifd = read32(tiff + 4, big_endian);
  if (ifd > size || size - ifd < 2) return 1;
  unsigned entries = read16(tiff + ifd, big_endian);
  const uint8_t *entry = tiff + ifd + 2;
  size_t available = (size - ifd - 2) / 12;
  if (entries > available) entries = (unsigned)available;
  for (unsigned i = 0; i < entries; i++, entry += 12) {
    if (read16(entry, big_endian) != 0x0112) continue;
    unsigned type = read16(entry + 2, big_endian);
    uint32_t value;
    if (type == 3) value = read16(entry + 8, big_endian);       // SHORT, as the standard says
    else if (type == 4) value = read32(entry + 8, big_endian);  // LONG, written by a few tools
    else return 1;
    return value >= 1 && value <= 8 ? (int32_t)value : 1;
  }
  return 1;
}

int ic_buffer_reserve(ic_buffer *buffer, size_t extra) {
  if (buffer->failed) return 0;
  if (buffer->capacity - buffer->size >= extra) return 1;
  size_t capacity = buffer->capacity < 4096 ? 4096 : buffer->capacity;
  while (capacity - buffer->size < extra) {
    if (capacity > SIZE_MAX / 2) {
      buffer->failed = 1;
      return 0;
    }
    capacity *= 2;
  }
  uint8_t *grown = realloc(buffer->data, capacity);
  if (grown == NULL) {
    buffer->failed = 1;
    return 0;
  }
  buffer->data = grown;
  buffer->capacity = capacity;
  return 1;
}

void ic_free(void *pointer) { free(pointer); }
