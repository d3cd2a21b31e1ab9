"""What the transform-proxy URL languages (thumbor, imgproxy, imgix) share: their signatures, the sources they
name (hosted images by v2 id) and the plain-text errors they answer with. Each language is a thin dialect
(`pinhole.dialects.<name>`) that parses its URL into the one transform parser's options and calls `Delivery`."""
