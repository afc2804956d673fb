// The Imaging target: decode, encode and transform images.
