// WebP through libwebp, which reports errors through status codes (no longjmp needed).
#include <stdlib.h>

#include <webp/decode.h>
#include <webp/encode.h>

#include "internal.h"

static uint32_t read_le32(const uint8_t *p) {
  return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static ic_status status_from_vp8(VP8StatusCode code) {
  switch (code) {
    case VP8_STATUS_OK: return IC_OK;
    case VP8_STATUS_OUT_OF_MEMORY: return IC_ERROR_OUT_OF_MEMORY;
    case VP8_STATUS_INVALID_PARAM: return IC_ERROR_INVALID_ARGUMENT;
    case VP8_STATUS_UNSUPPORTED_FEATURE: return IC_ERROR_UNSUPPORTED;
    case VP8_STATUS_NOT_ENOUGH_DATA: return IC_ERROR_TRUNCATED;
    default: return IC_ERROR_CORRUPT;
  }
}

static const char *describe_vp8(VP8StatusCode code) {
  switch (code) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "premature end of data";
    default: return "ok";
  }
}

ic_status ic_probe_webp(const uint8_t *data, size_t size, ic_info *info, ic_error *error) {
  info->format = IC_FORMAT_WEBP;
  info->orientation = 1;
  WebPBitstreamFeatures features;
  VP8StatusCode code = WebPGetFeatures(data, size, &features);
  if (code != VP8_STATUS_OK)
    return ic_fail(error, status_from_vp8(code), "WebP header: %s", describe_vp8(code));
  info->width = features.width;
  info->height = features.height;
  info->has_alpha = features.has_alpha;
  info->animated = features.has_animation;
  info->color = features.has_alpha ? IC_COLOR_RGBA : IC_COLOR_RGB;
  info->bit_depth = 8;
  // Extended files (VP8X) flag EXIF metadata; its chunk usually follows the image data, so walk the RIFF chunks.
  const unsigned exif_flag = 0x08;
  if (size >= 30 && memcmp(data + 12, "VP8X", 4) == 0 && (data[20] & exif_flag)) {
    size_t position = 12;
    while (size - position >= 8) {
      uint32_t length = read_le32(data + position + 4);
      if (length > size - position - 8) break;
      if (memcmp(data + position, "EXIF", 4) == 0) {
        info->orientation = ic_exif_orientation(data + position + 8, length);
        break;
      }
      position += 8 + (size_t)length + (length & 1);
      if (position > size) break;
    }
  }
  return IC_OK;
}

ic_status ic_decode_webp(const uint8_t *data, size_t size, const ic_decode_options *options, const ic_info *info,
                         uint8_t **pixels_out, int32_t *width_out, int32_t *height_out, ic_error *error) {
  if (info->animated) return ic_fail(error, IC_ERROR_UNSUPPORTED, "animated WebP is not supported");
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return ic_fail(error, IC_ERROR_UNSUPPORTED, "libwebp version mismatch");
  size_t pixel_count = (size_t)info->width * (size_t)info->height;
  int composite = info->has_alpha && options->alpha_mode == IC_ALPHA_COMPOSITE_WHITE;
  int channels = composite ? 4 : 3;
  uint8_t *pixels = malloc(pixel_count * (size_t)channels);
  if (pixels == NULL)
    return ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "WebP: no memory for %dx%d pixels", info->width, info->height);
  config.output.colorspace = composite ? MODE_RGBA : MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = pixels;
  config.output.u.RGBA.stride = info->width * channels;
  config.output.u.RGBA.size = pixel_count * (size_t)channels;
  VP8StatusCode code = WebPDecode(data, size, &config);
  WebPFreeDecBuffer(&config.output);
  if (code != VP8_STATUS_OK) {
    free(pixels);
    return ic_fail(error, status_from_vp8(code), "WebP: %s", describe_vp8(code));
  }
  if (composite) {
    ic_rgba_to_rgb(pixels, pixel_count, IC_ALPHA_COMPOSITE_WHITE);
    uint8_t *shrunk = realloc(pixels, pixel_count * 3);
    if (shrunk != NULL) pixels = shrunk;
  }
  *pixels_out = pixels;
  *width_out = info->width;
  *height_out = info->height;
  return IC_OK;
}

ic_status ic_encode_webp(const uint8_t *pixels, int32_t width, int32_t height, size_t stride, int32_t channels,
                         float quality, int32_t lossless, uint8_t **output, size_t *output_size, ic_error *error) {
  ic_error_reset(error);
  if (output == NULL || output_size == NULL || pixels == NULL)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "WebP encoder: missing argument");
  *output = NULL;
  *output_size = 0;
  if (channels != 3 && channels != 4)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "WebP encoder takes 3 or 4 channels, not %d", channels);
  if (width <= 0 || height <= 0 || width > WEBP_MAX_DIMENSION || height > WEBP_MAX_DIMENSION)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "WebP cannot hold %dx%d pixels", width, height);
  if (stride < (size_t)width * (size_t)channels || stride > 0x7FFFFFFF)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "row stride %zu is invalid", stride);
  if (!(quality >= 0 && quality <= 100))
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "WebP quality %g is not in 0...100", quality);
  uint8_t *encoded = NULL;
  size_t size;
  int row = (int)stride;
  if (lossless)
    size = channels == 3 ? WebPEncodeLosslessRGB(pixels, width, height, row, &encoded)
                         : WebPEncodeLosslessRGBA(pixels, width, height, row, &encoded);
  else
    size = channels == 3 ? WebPEncodeRGB(pixels, width, height, row, quality, &encoded)
                         : WebPEncodeRGBA(pixels, width, height, row, quality, &encoded);
  if (size == 0 || encoded == NULL) {
    WebPFree(encoded);
    return ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "WebP encoder failed");
  }
  // Hand back a malloc'd copy so that every buffer of this library is released by ic_free.
  *output = malloc(size);
  if (*output == NULL) {
    WebPFree(encoded);
    return ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "WebP: no memory for the output");
  }
  memcpy(*output, encoded, size);
  *output_size = size;
  WebPFree(encoded);
  return IC_OK;
}
