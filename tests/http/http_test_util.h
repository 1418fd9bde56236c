// Shared helpers of the HTTP tests: JSON bodies, v2 requests, digits fixtures.
#pragma once

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server_process.h"

namespace ptjs_test {

using json = nlohmann::json;

// A model file's path and the image files of the bundled digits model with their labels.
inline std::string gen(const std::string& name) { return gen_dir + "/" + name; }

struct digit_image {
  std::string path;
  std::string label;  // what torchvision's reference predicts (expected.csv python_top1)
  double score;
};

// The first `count` rows of configs/digits/expected.csv, spread over the labels.
inline std::vector<digit_image> digit_images(size_t count) {
  std::vector<digit_image> out;
  const std::string csv = read_file(digits_dir + "/expected.csv");
  size_t pos = csv.find('\n') + 1;
  size_t row = 0;
  while (pos < csv.size() && out.size() < count) {
    const size_t end = csv.find('\n', pos);
    const std::string line = csv.substr(pos, end - pos);
    pos = end + 1;
    std::vector<std::string> f;
    size_t b = 0;
    for (size_t c; (c = line.find(',', b)) != std::string::npos; b = c + 1) f.push_back(line.substr(b, c - b));
    f.push_back(line.substr(b));
    if (f.size() == 4 && row++ % 17 == 0) out.push_back({digits_dir + "/" + f[0], f[2], std::stod(f[3])});
  }
  return out;
}

inline json parse(const httplib::Result& res) { return json::parse(res->body); }

// A v2 request with one FP32 input.
inline std::string v2_fp32(const std::string& name, const std::vector<int64_t>& shape, const json& data) {
  return json{{"inputs", {{{"name", name}, {"shape", shape}, {"datatype", "FP32"}, {"data", data}}}}}.dump();
}

inline std::vector<float> floats_of(const std::string& bytes) {
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

inline std::string bytes_of(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * 4);
}

// Index of the largest of the first `n` values of a JSON array.
inline size_t argmax(const json& data, size_t begin, size_t n) {
  size_t best = begin;
  for (size_t i = begin; i < begin + n; ++i)
    if (data[i].get<double>() > data[best].get<double>()) best = i;
  return best - begin;
}

inline const std::vector<std::string>& digit_labels() {
  static const std::vector<std::string> labels = {"zero", "one", "two",   "three", "four",
                                                  "five", "six", "seven", "eight", "nine"};
  return labels;
}

}  // namespace ptjs_test
