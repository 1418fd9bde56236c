// NumPy .npy files (format 1.0/2.0, C order, little-endian): what `ptjs preprocess` writes and
// what tests read from the torchvision reference. No libtorch here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sample.h"

namespace ptjs {

struct npy_array {
  std::string dtype;           // numpy descr: "<f4", "<f8", "|u1", "<i8", "<i4", "|b1", ...
  std::vector<int64_t> shape;  // C order
  std::vector<char> data;      // raw little-endian elements, product(shape) * itemsize bytes

  int64_t numel() const;
  size_t itemsize() const;
};

// Throws ptjs::error(invalid_input) naming the path and what is wrong.
npy_array load_npy(const std::string& path);
npy_array parse_npy(const std::string& bytes, const std::string& name);
void save_npy(const std::string& path, const npy_array& array);

// The sample as the model would receive it, without the batch dimension: a tensor sample
// becomes (C, H, W) of its own dtype; a PIL-stage sample becomes (H, W, C) uint8, as
// np.array(pil_image) would (with C dropped for mode L, as numpy does).
npy_array sample_to_npy(const sample& s);

// (H, W) or (H, W, C) uint8 -> a PIL-stage sample (CV_8UC1 / CV_8UC3); throws otherwise.
sample npy_to_image(const npy_array& array);

}  // namespace ptjs
