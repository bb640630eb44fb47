#include "simulators/nn/fashion_mnist.hpp"

#include <zlib.h>

#include <cstdlib>
#include <filesystem>

#include "base/error.hpp"

namespace dsegym::nn {

namespace {

// The whole decompressed content of a .gz file.
std::vector<std::uint8_t> read_gz(const std::string& path) {
  if (!std::filesystem::exists(path))
    throw InvalidArgument("Fashion-MNIST file " + path + " does not exist; install Debian's dataset-fashion-mnist or set DSEGYM_FASHION_MNIST");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InvalidArgument("Fashion-MNIST file " + path + ": cannot open");
  std::vector<std::uint8_t> out;
  std::uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  const bool failed = n < 0;
  gzclose(f);
  if (failed) throw InvalidArgument("Fashion-MNIST file " + path + ": not a valid gzip file");
  return out;
}

std::uint32_t be32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

}  // namespace

std::string fashion_mnist_dir() {
  const char* env = std::getenv("DSEGYM_FASHION_MNIST");
  return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

ImageSet load_fashion_mnist(const std::string& split) {
  if (split != "train" && split != "test") throw InvalidArgument("Fashion-MNIST split '" + split + "' is not valid; choices: train, test");
  const std::string stem = fashion_mnist_dir() + "/" + (split == "train" ? "train" : "t10k");
  const std::string ipath = stem + "-images-idx3-ubyte.gz", lpath = stem + "-labels-idx1-ubyte.gz";
  const auto images = read_gz(ipath), labels = read_gz(lpath);
  // IDX: big-endian magic 0x00000803 (ubyte, 3 dims) then the dims; labels 0x00000801.
  if (images.size() < 16 || be32(images, 0) != 0x803) throw InvalidArgument("Fashion-MNIST file " + ipath + ": not an IDX image file (magic 0x803)");
  if (labels.size() < 8 || be32(labels, 0) != 0x801) throw InvalidArgument("Fashion-MNIST file " + lpath + ": not an IDX label file (magic 0x801)");
  ImageSet s;
  s.count = be32(images, 4);
  s.rows = be32(images, 8);
  s.cols = be32(images, 12);
  if (images.size() != 16 + static_cast<std::size_t>(s.count * s.rows * s.cols))
    throw InvalidArgument("Fashion-MNIST file " + ipath + ": " + std::to_string(images.size() - 16) + " pixel bytes for " + std::to_string(s.count) +
                          " images of " + std::to_string(s.rows) + "x" + std::to_string(s.cols));
  if (be32(labels, 4) != s.count || labels.size() != 8 + static_cast<std::size_t>(s.count))
    throw InvalidArgument("Fashion-MNIST file " + lpath + ": label count differs from the " + std::to_string(s.count) + " images");
  s.pixels.assign(images.begin() + 16, images.end());
  s.labels.assign(labels.begin() + 8, labels.end());
  for (const auto l : s.labels)
    if (l > 9) throw InvalidArgument("Fashion-MNIST file " + lpath + ": label " + std::to_string(l) + " is not in 0-9");
  return s;
}

}  // namespace dsegym::nn
