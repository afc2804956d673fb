// PNG through libpng. libpng's error callback must not return: ours longjmps through png_jmpbuf.
#include <setjmp.h>
#include <stdlib.h>

#include <png.h>

#include "internal.h"

// MARK: - Header probe

static uint32_t read_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int valid_depth(int color_type, int depth) {
  switch (color_type) {
    case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2:
    case 4:
    case 6: return depth == 8 || depth == 16;
    default: return 0;
  }
}

ic_status ic_probe_png(const uint8_t *data, size_t size, ic_info *info, ic_error *error) {
  info->format = IC_FORMAT_PNG;
  info->orientation = 1;
  // Signature (8), then IHDR: length (4) "IHDR" (4) width height depth colour compression filter interlace (13) CRC.
  if (size < 8 + 8 + 13) return ic_fail(error, IC_ERROR_TRUNCATED, "PNG data ends inside the IHDR chunk");
  if (read_be32(data + 8) != 13 || memcmp(data + 12, "IHDR", 4) != 0)
    return ic_fail(error, IC_ERROR_CORRUPT, "PNG does not start with an IHDR chunk");
  const uint8_t *header = data + 16;
  uint32_t width = read_be32(header), height = read_be32(header + 4);
  int depth = header[8], color_type = header[9];
  if (width == 0 || height == 0 || width > 0x7FFFFFFFu || height > 0x7FFFFFFFu)
    return ic_fail(error, IC_ERROR_CORRUPT, "PNG header gives an invalid size %ux%u", width, height);
  if (!valid_depth(color_type, depth))
    return ic_fail(error, IC_ERROR_CORRUPT, "PNG colour type %d with bit depth %d is invalid", color_type, depth);
  info->width = (int32_t)width;
  info->height = (int32_t)height;
  info->bit_depth = depth;
  info->progressive = header[12] == 1;
  switch (color_type) {
    case 0: info->color = IC_COLOR_GRAY; break;
    case 2: info->color = IC_COLOR_RGB; break;
    case 3: info->color = IC_COLOR_PALETTE; break;
    case 4: info->color = IC_COLOR_GRAY_ALPHA; break;
    default: info->color = IC_COLOR_RGBA; break;
  }
  info->has_alpha = color_type == 4 || color_type == 6;
  // The chunks before the image data may add transparency (tRNS) and EXIF (eXIf). Stop at IDAT or where data ends;
  // a truncated tail is for the decoder to report.
  size_t position = 8 + 8 + 13 + 4;
  while (size - position >= 8) {
    uint32_t length = read_be32(data + position);
    const uint8_t *type = data + position + 4;
    if (memcmp(type, "IDAT", 4) == 0 || memcmp(type, "IEND", 4) == 0) break;
    if (length > size - position - 8) break;
    const uint8_t *payload = data + position + 8;
    if (memcmp(type, "tRNS", 4) == 0) info->has_alpha = 1;
    else if (memcmp(type, "eXIf", 4) == 0) info->orientation = ic_exif_orientation(payload, length);
    if ((size_t)length + 12 > size - position) break;
    position += (size_t)length + 12;
  }
  return IC_OK;
}

// MARK: - Decoding

typedef struct {
  const uint8_t *data;
  size_t size;
  size_t position;
  int ran_out;
  int warnings;
  ic_error *error;
} png_reader;

static void on_png_error(png_structp png, png_const_charp message) {
  png_reader *reader = png_get_error_ptr(png);
  ic_fail(reader->error, reader->ran_out ? IC_ERROR_TRUNCATED : IC_ERROR_CORRUPT, "PNG: %s", message);
  png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp message) {
  (void)message;
  png_reader *reader = png_get_error_ptr(png);
  reader->warnings++;
}

static void read_from_memory(png_structp png, png_bytep destination, size_t count) {
  png_reader *reader = png_get_io_ptr(png);
  if (count > reader->size - reader->position) {
    reader->ran_out = 1;
    png_error(png, "premature end of data");
  }
  memcpy(destination, reader->data + reader->position, count);
  reader->position += count;
}

// State the longjmp may skip over lives here, so the cleanup after it sees current values.
typedef struct {
  png_reader reader;
  png_structp png;
  png_infop png_info;
  uint8_t *pixels;
  uint8_t *row;
  png_bytep *rows;
} png_decoder;

ic_status ic_decode_png(const uint8_t *data, size_t size, const ic_decode_options *options, const ic_info *info,
                        uint8_t **pixels_out, int32_t *width_out, int32_t *height_out, ic_error *error) {
  png_decoder *decoder = calloc(1, sizeof *decoder);
  if (decoder == NULL) return ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "PNG: no memory for the decoder");
  decoder->reader.data = data;
  decoder->reader.size = size;
  decoder->reader.error = error;
  ic_status status = IC_OK;
  decoder->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &decoder->reader, on_png_error, on_png_warning);
  if (decoder->png != NULL) decoder->png_info = png_create_info_struct(decoder->png);
  if (decoder->png == NULL || decoder->png_info == NULL) {
    status = ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "PNG: no memory for the decoder");
    goto done;
  }
  if (setjmp(png_jmpbuf(decoder->png))) {
    status = decoder->reader.ran_out ? IC_ERROR_TRUNCATED : IC_ERROR_CORRUPT;
    goto done;
  }
  png_structp png = decoder->png;
  png_infop png_info = decoder->png_info;
  png_set_read_fn(png, &decoder->reader, read_from_memory);
  // Our own pixel limit was applied to the header already; libpng's default 1,000,000-pixel side limit would
  // otherwise reject legitimate panoramas.
  png_set_user_limits(png, 0x7FFFFFFF, 0x7FFFFFFF);
  png_read_info(png, png_info);
  png_uint_32 width = png_get_image_width(png, png_info), height = png_get_image_height(png, png_info);
  if ((int64_t)width != info->width || (int64_t)height != info->height) {
    status = ic_fail(error, IC_ERROR_CORRUPT, "PNG size disagrees with its header");
    goto done;
  }
  int color_type = png_get_color_type(png, png_info);
  int depth = png_get_bit_depth(png, png_info);
  if (depth == 16) png_set_scale_16(png);  // rounds v·255/65535 (png_set_strip_16 would truncate)
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, png_info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, png_info);
  int channels = png_get_channels(png, png_info);
  if ((channels != 3 && channels != 4) || png_get_rowbytes(png, png_info) != (size_t)width * (size_t)channels) {
    status = ic_fail(error, IC_ERROR_UNSUPPORTED, "PNG layout after conversion is unexpected (%d channels)", channels);
    goto done;
  }
  size_t pixel_count = (size_t)width * height;
  size_t row_bytes = (size_t)width * 3;
  if (passes > 1) {
    // Interlaced images arrive in passes over the whole picture, so read all rows at once.
    decoder->pixels = malloc(pixel_count * (size_t)channels);
    decoder->rows = malloc(sizeof(png_bytep) * height);
    if (decoder->pixels == NULL || decoder->rows == NULL) {
      status = ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "PNG: no memory for %ux%u pixels", width, height);
      goto done;
    }
    for (png_uint_32 y = 0; y < height; y++) decoder->rows[y] = decoder->pixels + (size_t)y * width * channels;
    png_read_image(png, decoder->rows);
    if (channels == 4) {
      ic_rgba_to_rgb(decoder->pixels, pixel_count, options->alpha_mode);
      uint8_t *shrunk = realloc(decoder->pixels, pixel_count * 3);
      if (shrunk != NULL) decoder->pixels = shrunk;
    }
  } else {
    decoder->pixels = malloc(pixel_count * 3);
    if (channels == 4) decoder->row = malloc((size_t)width * 4);
    if (decoder->pixels == NULL || (channels == 4 && decoder->row == NULL)) {
      status = ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "PNG: no memory for %ux%u pixels", width, height);
      goto done;
    }
    for (png_uint_32 y = 0; y < height; y++) {
      uint8_t *out = decoder->pixels + (size_t)y * row_bytes;
      if (channels == 3) {
        png_read_row(png, out, NULL);
      } else {
        png_read_row(png, decoder->row, NULL);
        ic_rgba_to_rgb(decoder->row, width, options->alpha_mode);
        memcpy(out, decoder->row, row_bytes);
      }
    }
  }
  // png_read_end is skipped on purpose: every row is in, and chunks after the image carry nothing we use.
  *pixels_out = decoder->pixels;
  decoder->pixels = NULL;
  *width_out = (int32_t)width;
  *height_out = (int32_t)height;

done:
  if (error != NULL) error->warnings = decoder->reader.warnings;
  if (decoder->png != NULL) png_destroy_read_struct(&decoder->png, decoder->png_info ? &decoder->png_info : NULL, NULL);
  free(decoder->pixels);
  free(decoder->row);
  free(decoder->rows);
  free(decoder);
  return status;
}

// MARK: - Encoding

typedef struct {
  ic_buffer buffer;
  ic_error *error;
} png_writer;

static void on_png_write_error(png_structp png, png_const_charp message) {
  png_writer *writer = png_get_error_ptr(png);
  ic_fail(writer->error, writer->buffer.failed ? IC_ERROR_OUT_OF_MEMORY : IC_ERROR_INVALID_ARGUMENT,
          "PNG encoder: %s", message);
  png_longjmp(png, 1);
}

static void write_to_memory(png_structp png, png_bytep source, size_t count) {
  png_writer *writer = png_get_io_ptr(png);
  if (!ic_buffer_reserve(&writer->buffer, count)) png_error(png, "out of memory");
  memcpy(writer->buffer.data + writer->buffer.size, source, count);
  writer->buffer.size += count;
}

static void flush_memory(png_structp png) { (void)png; }

typedef struct {
  png_writer writer;
  png_structp png;
  png_infop png_info;
  png_bytep *rows;
} png_encoder;

ic_status ic_encode_png(const void *pixels, int32_t width, int32_t height, size_t stride, const ic_png_options *options,
                        uint8_t **output, size_t *output_size, ic_error *error) {
  ic_error_reset(error);
  if (output == NULL || output_size == NULL || pixels == NULL || options == NULL)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "PNG encoder: missing argument");
  *output = NULL;
  *output_size = 0;
  int color_type, channels;
  switch (options->color) {
    case IC_COLOR_GRAY: color_type = PNG_COLOR_TYPE_GRAY, channels = 1; break;
    case IC_COLOR_GRAY_ALPHA: color_type = PNG_COLOR_TYPE_GRAY_ALPHA, channels = 2; break;
    case IC_COLOR_RGB: color_type = PNG_COLOR_TYPE_RGB, channels = 3; break;
    case IC_COLOR_RGBA: color_type = PNG_COLOR_TYPE_RGB_ALPHA, channels = 4; break;
    case IC_COLOR_PALETTE: color_type = PNG_COLOR_TYPE_PALETTE, channels = 1; break;
    default: return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "PNG encoder: unsupported colour %d", options->color);
  }
  int depth = options->bit_depth;
  if (!valid_depth(color_type, depth))
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "PNG colour type %d cannot have bit depth %d", color_type, depth);
  if (width <= 0 || height <= 0)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "PNG cannot hold %dx%d pixels", width, height);
  size_t sample_bytes = depth == 16 ? 2 : 1;
  if (stride < (size_t)width * channels * sample_bytes)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "row stride %zu is shorter than a row", stride);
  if (color_type == PNG_COLOR_TYPE_PALETTE &&
      (options->palette == NULL || options->palette_count < 1 || options->palette_count > 256 ||
       options->palette_count > (1 << depth) || options->transparency_count > options->palette_count))
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "PNG palette of %d entries is invalid", options->palette_count);

  png_encoder *encoder = calloc(1, sizeof *encoder);
  if (encoder == NULL) return ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "PNG: no memory for the encoder");
  encoder->writer.error = error;
  ic_status status = IC_OK;
  encoder->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &encoder->writer, on_png_write_error, NULL);
  if (encoder->png != NULL) encoder->png_info = png_create_info_struct(encoder->png);
  encoder->rows = malloc(sizeof(png_bytep) * (size_t)height);
  if (encoder->png == NULL || encoder->png_info == NULL || encoder->rows == NULL) {
    status = ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "PNG: no memory for the encoder");
    goto done;
  }
  if (setjmp(png_jmpbuf(encoder->png))) {
    status = encoder->writer.buffer.failed ? IC_ERROR_OUT_OF_MEMORY : IC_ERROR_INVALID_ARGUMENT;
    goto done;
  }
  png_structp png = encoder->png;
  png_infop png_info = encoder->png_info;
  png_set_write_fn(png, &encoder->writer, write_to_memory, flush_memory);
  if (options->compression_level >= 0 && options->compression_level <= 9)
    png_set_compression_level(png, options->compression_level);
  png_set_IHDR(png, png_info, (png_uint_32)width, (png_uint_32)height, depth, color_type,
               options->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_color palette[256];
    for (int i = 0; i < options->palette_count; i++) {
      palette[i].red = options->palette[3 * i];
      palette[i].green = options->palette[3 * i + 1];
      palette[i].blue = options->palette[3 * i + 2];
    }
    png_set_PLTE(png, png_info, palette, options->palette_count);
    if (options->transparency != NULL && options->transparency_count > 0)
      png_set_tRNS(png, png_info, options->transparency, options->transparency_count, NULL);
  }
  png_write_info(png, png_info);
  if (depth < 8) png_set_packing(png);  // one sample per input byte
  if (depth == 16) {
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe == 1) png_set_swap(png);  // PNG is big-endian; our samples are native
  }
  for (int32_t y = 0; y < height; y++) encoder->rows[y] = (png_bytep)pixels + (size_t)y * stride;
  png_write_image(png, encoder->rows);
  png_write_end(png, NULL);
  *output = encoder->writer.buffer.data;
  *output_size = encoder->writer.buffer.size;
  encoder->writer.buffer.data = NULL;

done:
  if (encoder->png != NULL)
    png_destroy_write_struct(&encoder->png, encoder->png_info ? &encoder->png_info : NULL);
  free(encoder->writer.buffer.data);
  free(encoder->rows);
  free(encoder);
  return status;
}
