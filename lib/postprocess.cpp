#include "postprocess.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "error.h"

namespace ptjs {
namespace {

// Converts any numeric host tensor to FP32 in place (softmax and top-k work on float).
void to_fp32(host_tensor& t) {
  if (t.datatype == "FP32") return;
  std::vector<char> data(static_cast<size_t>(t.numel()) * sizeof(float));
  auto* out = reinterpret_cast<float*>(data.data());
  for (int64_t i = 0; i < t.numel(); ++i) out[i] = static_cast<float>(t.at(i));
  t.data = std::move(data);
  t.datatype = "FP32";
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// Slices sample n out of a batched tensor: shape [1, ...rest].
host_tensor slice(const host_tensor& t, int64_t n) {
  host_tensor out;
  out.name = t.name;
  out.datatype = t.datatype;
  out.shape = t.shape;
  out.shape[0] = 1;
  const size_t bytes = t.data.size() / static_cast<size_t>(t.shape[0]);
  out.data.assign(t.data.begin() + n * bytes, t.data.begin() + (n + 1) * bytes);
  return out;
}

}  // namespace

void softmax_inplace(host_tensor& t, int dim) {
  to_fp32(t);
  const int rank = static_cast<int>(t.shape.size());
  const int d = dim < 0 ? dim + rank : dim;
  if (d < 0 || d >= rank)
    throw error(error_code::internal, "Softmax: dim " + std::to_string(dim) + " is out of range for output shape " + shape_text(t.shape));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < d; ++i) outer *= t.shape[i];
  for (int i = d + 1; i < rank; ++i) inner *= t.shape[i];
  const int64_t size = t.shape[d];
  auto* v = reinterpret_cast<float*>(t.data.data());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      float* base = v + o * size * inner + in;
      float max = -INFINITY;
      for (int64_t i = 0; i < size; ++i) max = std::max(max, base[i * inner]);
      float sum = 0.f;
      for (int64_t i = 0; i < size; ++i) {
        base[i * inner] = std::exp(base[i * inner] - max);
        sum += base[i * inner];
      }
      for (int64_t i = 0; i < size; ++i) base[i * inner] /= sum;
    }
  }
}

void sigmoid_inplace(host_tensor& t) {
  to_fp32(t);
  auto* v = reinterpret_cast<float*>(t.data.data());
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = 1.f / (1.f + std::exp(-v[i]));
}

std::vector<int64_t> top_k(const float* values, int64_t count, int64_t k) {
  std::vector<int64_t> idx(static_cast<size_t>(count));
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min(k, count);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t a, int64_t b) {
    // NaN sorts last; ties keep the lower index first.
    const float va = values[a], vb = values[b];
    if (std::isnan(va) != std::isnan(vb)) return std::isnan(vb);
    if (va != vb) return va > vb;
    return a < b;
  });
  idx.resize(static_cast<size_t>(k));
  return idx;
}

postprocessor::postprocessor(std::vector<postprocess_step> steps, std::vector<std::string> labels)
    : steps_(std::move(steps)), labels_(std::move(labels)) {
  bool terminal = false;
  for (const auto& step : steps_) {
    const bool is_terminal = step.name == "TopK" || step.name == "Argmax" || step.name == "Raw";
    if (terminal)
      throw error(error_code::invalid_config, "postprocess: '" + step.name + "' comes after TopK/Argmax/Raw, which must be last");
    terminal = is_terminal;
    if (step.name == "Raw") raw_ = true;
  }
  if (!terminal) {
    steps_.push_back({"Raw"});
    raw_ = true;
  }
}

void postprocessor::apply(std::vector<host_tensor> outputs, const std::vector<record*>& records) const {
  const auto batch = static_cast<int64_t>(records.size());
  for (const auto& out : outputs) {
    if (out.shape.empty() || out.shape[0] != batch)
      throw error(error_code::internal, "model output '" + out.name + "' has shape " + shape_text(out.shape) +
                                            "; expected the batch (" + std::to_string(batch) + ") as its first dimension");
  }
  host_tensor& first = outputs.front();
  for (const auto& step : steps_) {
    if (step.name == "Softmax") {
      softmax_inplace(first, step.dim);
    } else if (step.name == "Sigmoid") {
      sigmoid_inplace(first);
    } else if (step.name == "Raw") {
      for (int64_t n = 0; n < batch; ++n)
        for (const auto& out : outputs) records[n]->outputs.push_back(slice(out, n));
    } else {  // TopK, Argmax
      to_fp32(first);
      const int64_t classes = first.numel() / batch;
      for (size_t i = 2; i < first.shape.size(); ++i) {
        if (first.shape[i] != 1)
          throw error(error_code::internal, step.name + " needs a [batch, classes] output, got " + shape_text(first.shape) +
                                                "; use postprocess: [Raw] for other outputs");
      }
      const int64_t k = step.name == "TopK" ? step.k : 1;
      for (int64_t n = 0; n < batch; ++n) {
        const float* scores = first.fp32() + n * classes;
        for (const int64_t index : top_k(scores, classes, k)) {
          prediction p;
          p.index = index;
          p.score = scores[index];
          if (index < static_cast<int64_t>(labels_.size())) p.label = labels_[static_cast<size_t>(index)];
          records[n]->predictions.push_back(std::move(p));
        }
      }
    }
  }
}

}  // namespace ptjs
