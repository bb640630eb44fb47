#pragma once
// Fashion-MNIST (Xiao et al., 2017) from its IDX files, gzipped as Debian's
// dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist
// (DSEGYM_FASHION_MNIST overrides the folder): 60,000 training and 10,000
// test images of 28 x 28 8-bit pixels, labels 0-9.
#include <cstdint>
#include <string>
#include <vector>

namespace dsegym::nn {

struct ImageSet {
  std::int64_t count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  // count x rows x cols
  std::vector<std::uint8_t> labels;
};

std::string fashion_mnist_dir();
// split: "train" or "test". Errors name the file and what is wrong with it.
ImageSet load_fashion_mnist(const std::string& split);

}  // namespace dsegym::nn
