// The Imaging target: decode, encode and transform images for the data pipeline.
//
// - `ImageDecoder` / `ImageEncoder`: JPEG (libjpeg-turbo), PNG (libpng) and WebP (libwebp) through the flat C layer
//   in CImageCodecs, which keeps the libraries' longjmp error handling in C and returns status codes. The format
//   is sniffed from the bytes; headers are probed without decoding; decompression bombs are refused from the header.
// - `Image`: 8-bit RGB, rows packed, copy-on-write; decoded buffers are adopted without a copy.
// - Transforms: Pillow-style separable resampling (`resampled`, `resized`), crops, flips, EXIF orientation,
//   torchvision's random resized crop, and normalised [3, H, W] float32 tensors.
// - `ImagePipeline`: a list of `ImageTransform`s, planned so that crops and flips fold into one resampling and the
//   JPEG decoder can use DCT scaling.
//
// Why the resampler is Swift and not ATen's `interpolate(antialias: true)`: on one thread, the Swift passes read
// only the pixels that reach the output (a centre crop after a resize never resamples the discarded columns), work
// straight on the decoder's bytes with one float row in L1 between the passes, and need no layout change, whereas
// ATen wants planar float [N, C, H, W] (a permute and a conversion of the whole picture first) and resamples it
// all. `brivl bench data --only resize_crop_224_swift_vs_aten` measures the two side by side.
