// The stream decompressors behind .tar.gz, .tar.xz, .tar.zst and .tar.bz2 (image layers and
// rootfs tarballs). Each has a small static library with no further dependencies, which keeps
// the release binary static (libarchive would pull in libxml2 and 30 MB of ICU data).
#include <zlib.h>
#include <lzma.h>
#include <zstd.h>
#include <bzlib.h>
