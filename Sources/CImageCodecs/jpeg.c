// JPEG through libjpeg-turbo. libjpeg reports fatal errors through error_exit, which must not return: ours longjmps
// back to the entry point, which releases everything and returns a status.
#include <setjmp.h>
#include <stdio.h>  // jpeglib.h needs FILE
#include <stdlib.h>

#include <jpeglib.h>
#include <jerror.h>

#include "internal.h"

// MARK: - Header probe

static int is_frame_marker(int marker) {
  // SOF0...SOF15 except DHT (C4), JPG (C8) and DAC (CC).
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

ic_status ic_probe_jpeg(const uint8_t *data, size_t size, ic_info *info, ic_error *error) {
  info->format = IC_FORMAT_JPEG;
  info->orientation = 1;
  int saw_frame = 0;
  int adobe_transform = -1;
  int component_ids_rgb = 0;
  int components = 0;
  size_t position = 2;
  for (;;) {
    // Markers are 0xFF followed by a code; fill bytes (more 0xFF) may precede the code, and libjpeg tolerates
    // stray bytes before a marker, so skip to the next 0xFF.
    while (position < size && data[position] != 0xFF) position++;
    while (position < size && data[position] == 0xFF) position++;
    if (position >= size) break;
    int marker = data[position++];
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // standalone
    if (marker == 0xD9) {
      if (!saw_frame) return ic_fail(error, IC_ERROR_CORRUPT, "JPEG ends (EOI) before any frame header");
      break;
    }
    if (size - position < 2) break;
    size_t length = (size_t)data[position] << 8 | data[position + 1];
    if (length < 2) return ic_fail(error, IC_ERROR_CORRUPT, "JPEG marker 0x%02X has a bogus length %zu", marker, length);
    const uint8_t *segment = data + position + 2;
    size_t available = size - position - 2;
    size_t segment_size = length - 2;
    if (marker == 0xDA) {  // start of scan: the header is over
      if (!saw_frame) return ic_fail(error, IC_ERROR_CORRUPT, "JPEG scan starts before any frame header");
      break;
    }
    if (segment_size > available) {
      if (saw_frame) break;  // truncated after the frame header: the header facts are known, decoding will fail
      return ic_fail(error, IC_ERROR_TRUNCATED, "JPEG data ends inside a marker segment (0x%02X)", marker);
    }
    if (is_frame_marker(marker) && !saw_frame) {
      if (segment_size < 6) return ic_fail(error, IC_ERROR_CORRUPT, "JPEG frame header is too short");
      saw_frame = 1;
      info->bit_depth = segment[0];
      info->height = segment[1] << 8 | segment[2];
      info->width = segment[3] << 8 | segment[4];
      components = segment[5];
      info->progressive = marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE;
      if (components == 3 && segment_size >= 6 + 9 && segment[6] == 'R' && segment[9] == 'G' && segment[12] == 'B')
        component_ids_rgb = 1;
      if (marker == 0xC3 || marker == 0xC7 || marker == 0xCB || marker == 0xCF)
        return ic_fail(error, IC_ERROR_UNSUPPORTED, "lossless JPEG is not supported");
    } else if (marker == 0xE1 && segment_size >= 6 && memcmp(segment, "Exif\0\0", 6) == 0) {
      info->orientation = ic_exif_orientation(segment + 6, segment_size - 6);
    } else if (marker == 0xEE && segment_size >= 12 && memcmp(segment, "Adobe", 5) == 0) {
      info->adobe_marker = 1;
      adobe_transform = segment[11];
    }
    position += length;
  }
  if (!saw_frame) return ic_fail(error, IC_ERROR_TRUNCATED, "JPEG data ends before the frame header");
  if (info->height == 0)
    return ic_fail(error, IC_ERROR_UNSUPPORTED, "JPEG height defined by a DNL marker is not supported");
  if (info->width == 0) return ic_fail(error, IC_ERROR_CORRUPT, "JPEG frame header gives width 0");
  // The colour model the way libjpeg infers it (JFIF/Adobe markers, component identifiers).
  switch (components) {
    case 1: info->color = IC_COLOR_GRAY; break;
    case 3: info->color = adobe_transform == 0 || component_ids_rgb ? IC_COLOR_RGB : IC_COLOR_YCBCR; break;
    case 4: info->color = adobe_transform == 2 ? IC_COLOR_YCCK : IC_COLOR_CMYK; break;
    default:
      return ic_fail(error, IC_ERROR_UNSUPPORTED, "JPEG with %d components is not supported", components);
  }
  return IC_OK;
}

int32_t ic_jpeg_scale(const ic_info *info, const ic_decode_options *options) {
  if (options->min_width <= 0 || options->min_height <= 0) return 8;
  for (int32_t scale = 1; scale < 8; scale++) {
    if (options->power_of_two_scaling_only && (scale & (scale - 1)) != 0) continue;
    int64_t width = ((int64_t)info->width * scale + 7) / 8;
    int64_t height = ((int64_t)info->height * scale + 7) / 8;
    if (width >= options->min_width && height >= options->min_height) return scale;
  }
  return 8;
}

// MARK: - Decoding

typedef struct {
  struct jpeg_error_mgr manager;  // first, so that cinfo->err can be cast back
  jmp_buf jump;
  ic_status status;
  ic_error *error;
  int strict;
  int max_scans;
  int warnings;
  int data_ended;  // the source ran past the end of the input and fed a fake EOI
} decoder_failure;

typedef struct {
  struct jpeg_source_mgr manager;
  decoder_failure *failure;
} memory_source;

static const JOCTET fake_end_of_image[2] = {0xFF, JPEG_EOI};

static void source_init(j_decompress_ptr cinfo) { (void)cinfo; }
static void source_term(j_decompress_ptr cinfo) { (void)cinfo; }

// Called only when the input is exhausted. Like libjpeg's own memory source we feed an EOI marker, but quietly:
// whether the missing data mattered is decided from what the decoder does next (see emit_message).
static boolean source_fill(j_decompress_ptr cinfo) {
  memory_source *source = (memory_source *)cinfo->src;
  source->failure->data_ended = 1;
  source->manager.next_input_byte = fake_end_of_image;
  source->manager.bytes_in_buffer = 2;
  return TRUE;
}

static void source_skip(j_decompress_ptr cinfo, long count) {
  struct jpeg_source_mgr *source = cinfo->src;
  if (count <= 0) return;
  if ((size_t)count > source->bytes_in_buffer) {
    source_fill(cinfo);
    return;
  }
  source->next_input_byte += count;
  source->bytes_in_buffer -= (size_t)count;
}

static void fail_now(j_common_ptr cinfo, ic_status status) {
  decoder_failure *failure = (decoder_failure *)cinfo->err;
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  failure->status = status;
  ic_fail(failure->error, status, "JPEG: %s", message);
  longjmp(failure->jump, 1);
}

static ic_status classify_error(const decoder_failure *failure, int code) {
  switch (code) {
    case JERR_OUT_OF_MEMORY: return IC_ERROR_OUT_OF_MEMORY;
    case JERR_BAD_PRECISION:
    case JERR_NOT_COMPILED:
    case JERR_EMPTY_IMAGE:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_SOF_UNSUPPORTED:
    case JERR_ARITH_NOTIMPL: return IC_ERROR_UNSUPPORTED;
    default: return failure->data_ended ? IC_ERROR_TRUNCATED : IC_ERROR_CORRUPT;
  }
}

static void on_error_exit(j_common_ptr cinfo) {
  decoder_failure *failure = (decoder_failure *)cinfo->err;
  fail_now(cinfo, classify_error(failure, cinfo->err->msg_code));
}

static void on_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  decoder_failure *failure = (decoder_failure *)cinfo->err;
  failure->warnings++;
  int code = cinfo->err->msg_code;
  // libjpeg's answer to missing data is a warning and grey fill; ours is an error. JWRN_HIT_MARKER after the input
  // ran out means the entropy decoder needed bits that were not there.
  if (code == JWRN_JPEG_EOF || (code == JWRN_HIT_MARKER && failure->data_ended)) fail_now(cinfo, IC_ERROR_TRUNCATED);
  if (failure->strict) fail_now(cinfo, IC_ERROR_CORRUPT);
}

static void on_progress(j_common_ptr cinfo) {
  decoder_failure *failure = (decoder_failure *)cinfo->err;
  if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > failure->max_scans) {
    failure->status = IC_ERROR_CORRUPT;
    ic_fail(failure->error, IC_ERROR_CORRUPT, "JPEG has more than %d scans", failure->max_scans);
    longjmp(failure->jump, 1);
  }
}

static void cmyk_row_to_rgb(const uint8_t *in, uint8_t *out, JDIMENSION width, int inverted) {
  for (JDIMENSION x = 0; x < width; x++, in += 4, out += 3) {
    // Remaining light per channel is (1 − ink)(1 − black). Adobe-marked files store 1 − ink (inverted) already.
    unsigned c = in[0], m = in[1], y = in[2], k = in[3];
    if (!inverted) {
      c = 255 - c;
      m = 255 - m;
      y = 255 - y;
      k = 255 - k;
    }
    out[0] = ic_mul255(c, k);
    out[1] = ic_mul255(m, k);
    out[2] = ic_mul255(y, k);
  }
}

// Everything the longjmp may skip over lives here, so the cleanup after it sees current values.
typedef struct {
  struct jpeg_decompress_struct cinfo;
  decoder_failure failure;
  memory_source source;
  struct jpeg_progress_mgr progress;
  uint8_t *pixels;
  uint8_t *cmyk_row;
} jpeg_decoder;

ic_status ic_decode_jpeg(const uint8_t *data, size_t size, const ic_decode_options *options, const ic_info *info,
                         uint8_t **pixels_out, int32_t *width_out, int32_t *height_out, ic_error *error) {
  jpeg_decoder *decoder = calloc(1, sizeof *decoder);
  if (decoder == NULL) return ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "JPEG: no memory for the decoder");
  struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
  decoder->failure.error = error;
  decoder->failure.strict = options->strict;
  decoder->failure.max_scans = options->max_scans > 0 ? options->max_scans : 1000;
  cinfo->err = jpeg_std_error(&decoder->failure.manager);
  decoder->failure.manager.error_exit = on_error_exit;
  decoder->failure.manager.emit_message = on_emit_message;
  ic_status status = IC_OK;
  if (setjmp(decoder->failure.jump)) {
    status = decoder->failure.status;
    goto done;
  }
  jpeg_create_decompress(cinfo);
  decoder->source.failure = &decoder->failure;
  decoder->source.manager.init_source = source_init;
  decoder->source.manager.fill_input_buffer = source_fill;
  decoder->source.manager.skip_input_data = source_skip;
  decoder->source.manager.resync_to_restart = jpeg_resync_to_restart;
  decoder->source.manager.term_source = source_term;
  decoder->source.manager.next_input_byte = data;
  decoder->source.manager.bytes_in_buffer = size;
  cinfo->src = &decoder->source.manager;
  decoder->progress.progress_monitor = on_progress;
  cinfo->progress = &decoder->progress;

  jpeg_read_header(cinfo, TRUE);
  if (cinfo->image_width != (JDIMENSION)info->width || cinfo->image_height != (JDIMENSION)info->height) {
    status = ic_fail(error, IC_ERROR_CORRUPT, "JPEG frame headers disagree on the size");
    goto done;
  }
  if (cinfo->data_precision != 8) {
    status = ic_fail(error, IC_ERROR_UNSUPPORTED, "JPEG with %d-bit samples is not supported", cinfo->data_precision);
    goto done;
  }
  int cmyk = 0;
  switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB: cinfo->out_color_space = JCS_EXT_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo->out_color_space = JCS_CMYK;  // libjpeg turns YCCK into CMYK; CMYK to RGB is ours
      cmyk = 1;
      break;
    default:
      status = ic_fail(error, IC_ERROR_UNSUPPORTED, "JPEG colour space %d is not supported", cinfo->jpeg_color_space);
      goto done;
  }
  cinfo->scale_num = (unsigned)ic_jpeg_scale(info, options);
  cinfo->scale_denom = 8;
  jpeg_start_decompress(cinfo);
  // A multi-scan (progressive) file is read whole by jpeg_start_decompress: if it ran out of data there, some scans
  // are missing and the picture would silently lack detail.
  if (decoder->failure.data_ended && jpeg_has_multiple_scans(cinfo)) {
    status = ic_fail(error, IC_ERROR_TRUNCATED, "JPEG: premature end of data (missing scans)");
    goto done;
  }
  JDIMENSION width = cinfo->output_width, height = cinfo->output_height;
  size_t row_bytes = (size_t)width * 3;
  decoder->pixels = malloc(row_bytes * height);
  if (decoder->pixels == NULL) {
    status = ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "JPEG: no memory for %ux%u pixels", width, height);
    goto done;
  }
  if (cmyk) {
    decoder->cmyk_row = malloc((size_t)width * 4);
    if (decoder->cmyk_row == NULL) {
      status = ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "JPEG: no memory for a row");
      goto done;
    }
    while (cinfo->output_scanline < height) {
      JDIMENSION row = cinfo->output_scanline;
      JSAMPROW rows[1] = {decoder->cmyk_row};
      if (jpeg_read_scanlines(cinfo, rows, 1) != 1) break;
      cmyk_row_to_rgb(decoder->cmyk_row, decoder->pixels + row * row_bytes, width, cinfo->saw_Adobe_marker);
    }
  } else {
    JSAMPROW rows[16];
    while (cinfo->output_scanline < height) {
      JDIMENSION first = cinfo->output_scanline;
      JDIMENSION count = height - first < 16 ? height - first : 16;
      for (JDIMENSION i = 0; i < count; i++) rows[i] = decoder->pixels + (size_t)(first + i) * row_bytes;
      if (jpeg_read_scanlines(cinfo, rows, count) == 0) break;
    }
  }
  if (cinfo->output_scanline < height) {
    status = ic_fail(error, IC_ERROR_TRUNCATED, "JPEG: premature end of data at row %u of %u", cinfo->output_scanline,
                     height);
    goto done;
  }
  // jpeg_finish_decompress is skipped on purpose: all rows are in, and a file missing only its EOI marker is fine.
  *pixels_out = decoder->pixels;
  decoder->pixels = NULL;
  *width_out = (int32_t)width;
  *height_out = (int32_t)height;

done:
  if (error != NULL) error->warnings = decoder->failure.warnings;
  jpeg_destroy_decompress(cinfo);
  free(decoder->pixels);
  free(decoder->cmyk_row);
  free(decoder);
  return status;
}

// MARK: - Encoding

typedef struct {
  struct jpeg_error_mgr manager;
  jmp_buf jump;
  ic_error *error;
} encoder_failure;

typedef struct {
  struct jpeg_destination_mgr manager;
  ic_buffer buffer;
} memory_destination;

static void encoder_error_exit(j_common_ptr cinfo) {
  encoder_failure *failure = (encoder_failure *)cinfo->err;
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  ic_fail(failure->error, IC_ERROR_INVALID_ARGUMENT, "JPEG encoder: %s", message);
  longjmp(failure->jump, 1);
}

static void encoder_emit_message(j_common_ptr cinfo, int level) {
  (void)cinfo;
  (void)level;
}

static void destination_init(j_compress_ptr cinfo) {
  memory_destination *destination = (memory_destination *)cinfo->dest;
  if (!ic_buffer_reserve(&destination->buffer, 16384)) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
  destination->manager.next_output_byte = destination->buffer.data;
  destination->manager.free_in_buffer = destination->buffer.capacity;
}

// libjpeg calls this when the whole buffer is full (free_in_buffer is 0): everything up to capacity is data.
static boolean destination_empty(j_compress_ptr cinfo) {
  memory_destination *destination = (memory_destination *)cinfo->dest;
  destination->buffer.size = destination->buffer.capacity;
  if (!ic_buffer_reserve(&destination->buffer, destination->buffer.capacity)) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
  destination->manager.next_output_byte = destination->buffer.data + destination->buffer.size;
  destination->manager.free_in_buffer = destination->buffer.capacity - destination->buffer.size;
  return TRUE;
}

static void destination_term(j_compress_ptr cinfo) {
  memory_destination *destination = (memory_destination *)cinfo->dest;
  destination->buffer.size = destination->buffer.capacity - destination->manager.free_in_buffer;
}

typedef struct {
  struct jpeg_compress_struct cinfo;
  encoder_failure failure;
  memory_destination destination;
} jpeg_encoder;

ic_status ic_encode_jpeg(const uint8_t *pixels, int32_t width, int32_t height, size_t stride, int32_t components,
                         const ic_jpeg_options *options, uint8_t **output, size_t *output_size, ic_error *error) {
  ic_error_reset(error);
  if (output == NULL || output_size == NULL || pixels == NULL || options == NULL)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "JPEG encoder: missing argument");
  *output = NULL;
  *output_size = 0;
  if (width <= 0 || height <= 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "JPEG cannot hold %dx%d pixels", width, height);
  if (components != 1 && components != 3 && components != 4)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "JPEG encoder takes 1, 3 or 4 components, not %d", components);
  if (stride < (size_t)width * (size_t)components)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "row stride %zu is shorter than a row", stride);
  if (options->quality < 1 || options->quality > 100)
    return ic_fail(error, IC_ERROR_INVALID_ARGUMENT, "JPEG quality %d is not in 1...100", options->quality);

  jpeg_encoder *encoder = calloc(1, sizeof *encoder);
  if (encoder == NULL) return ic_fail(error, IC_ERROR_OUT_OF_MEMORY, "JPEG: no memory for the encoder");
  struct jpeg_compress_struct *cinfo = &encoder->cinfo;
  encoder->failure.error = error;
  cinfo->err = jpeg_std_error(&encoder->failure.manager);
  encoder->failure.manager.error_exit = encoder_error_exit;
  encoder->failure.manager.emit_message = encoder_emit_message;
  ic_status status = IC_OK;
  if (setjmp(encoder->failure.jump)) {
    status = encoder->destination.buffer.failed ? IC_ERROR_OUT_OF_MEMORY : IC_ERROR_INVALID_ARGUMENT;
    goto done;
  }
  jpeg_create_compress(cinfo);
  encoder->destination.manager.init_destination = destination_init;
  encoder->destination.manager.empty_output_buffer = destination_empty;
  encoder->destination.manager.term_destination = destination_term;
  cinfo->dest = &encoder->destination.manager;
  cinfo->image_width = (JDIMENSION)width;
  cinfo->image_height = (JDIMENSION)height;
  cinfo->input_components = components;
  cinfo->in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(cinfo);
  if (components == 4 && options->color == IC_JPEG_YCCK) jpeg_set_colorspace(cinfo, JCS_YCCK);
  jpeg_set_quality(cinfo, options->quality, TRUE);
  if (components == 3) {
    int horizontal = options->subsampling == IC_SUBSAMPLING_444 ? 1 : 2;
    int vertical = options->subsampling == IC_SUBSAMPLING_420 ? 2 : 1;
    cinfo->comp_info[0].h_samp_factor = horizontal;
    cinfo->comp_info[0].v_samp_factor = vertical;
    for (int i = 1; i < 3; i++) cinfo->comp_info[i].h_samp_factor = cinfo->comp_info[i].v_samp_factor = 1;
  }
  if (options->progressive) jpeg_simple_progression(cinfo);
  cinfo->optimize_coding = options->optimize_coding ? TRUE : FALSE;
  jpeg_start_compress(cinfo, TRUE);
  while (cinfo->next_scanline < cinfo->image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo->next_scanline * stride);
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  *output = encoder->destination.buffer.data;
  *output_size = encoder->destination.buffer.size;
  encoder->destination.buffer.data = NULL;

done:
  jpeg_destroy_compress(cinfo);
  free(encoder->destination.buffer.data);
  free(encoder);
  return status;
}
