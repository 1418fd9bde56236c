// Building transforms from YAML: typed argument reading with file:line:column errors, the
// registry of transform names, and the ordered pipeline.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "sample.h"
#include "transform.h"

namespace ptjs {

// The arguments of one transform as written in YAML (a map, possibly empty or null).
// Each getter marks its key as used; finish() then rejects keys nobody asked for.
// Every error is a ptjs::error(invalid_config) formatted as
//   "<source>:<line>:<col>: <Transform>: <what>"   e.g.
//   "configs/x.yaml:7:5: Resize: 'size' must be positive, got -3"
// with line:column (1-based) of the offending node taken from yaml-cpp's Mark().
class transform_args {
 public:
  transform_args(std::string source, std::string transform_name, YAML::Node args, YAML::Mark owner_mark);

  bool has(const std::string& key) const;
  int get_int(const std::string& key, std::optional<int> fallback = std::nullopt);
  double get_double(const std::string& key, std::optional<double> fallback = std::nullopt);
  bool get_bool(const std::string& key, std::optional<bool> fallback = std::nullopt);
  std::string get_string(const std::string& key, std::optional<std::string> fallback = std::nullopt);
  // One of `accepted`; the error lists them.
  std::string get_choice(const std::string& key, const std::vector<std::string>& accepted,
                         std::optional<std::string> fallback = std::nullopt);
  // An int or a list of ints (a scalar gives a list of one); sizes must be in allowed_sizes.
  std::vector<int> get_int_list(const std::string& key, const std::vector<size_t>& allowed_sizes,
                                std::optional<std::vector<int>> fallback = std::nullopt);
  // A number or a list of numbers.
  std::vector<double> get_double_list(const std::string& key,
                                      std::optional<std::vector<double>> fallback = std::nullopt);
  // An int, or nullopt when the key is absent or null (Python's None).
  std::optional<int> get_optional_int(const std::string& key);
  // The raw node (marks the key used), for arguments of unusual shape; null when absent.
  YAML::Node node(const std::string& key);

  // Throws for the first key that no getter asked for, listing the accepted keys.
  void finish() const;

  // Throws ptjs::error(invalid_config) located at `key` (or at the transform when key is empty).
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

  const std::string& transform_name() const { return name_; }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::string name_;
  YAML::Node args_;
  YAML::Mark owner_mark_;
  std::set<std::string> used_;
  std::vector<std::string> asked_;  // every key a getter asked for, in order (the accepted keys)

  YAML::Node lookup(const std::string& key);  // marks the key asked; null node when absent
  [[noreturn]] void fail_at(const YAML::Mark& mark, const std::string& message) const;
};

// "<source>:<line>:<col>: " for a mark (1-based), or "<source>: " when the mark is unknown.
std::string format_location(const std::string& source, const YAML::Mark& mark);

using transform_factory = std::function<std::unique_ptr<transform>(transform_args&)>;

// Maps torchvision class names to factories. An ordinary object: build one, register into it.
class transform_registry {
 public:
  void add(const std::string& name, transform_factory factory);
  // A name that is known but refused, with the reason (e.g. training-time only transforms).
  void refuse(const std::string& name, const std::string& reason);

  // Throws ptjs::error(invalid_config) for unknown or refused names, listing what is accepted.
  std::unique_ptr<transform> create(const std::string& name, transform_args& args) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, transform_factory> factories_;
  std::map<std::string, std::string> refused_;
};

// Registers every built-in transform (Resize, CenterCrop, ToTensor, Normalize, Grayscale, ...)
// and refuses the random / training-only ones.
void register_builtin_transforms(transform_registry& registry);

// An ordered list of transforms. run() is const and thread-safe.
class pipeline {
 public:
  pipeline() = default;
  explicit pipeline(std::vector<std::unique_ptr<transform>> steps);
  pipeline(pipeline&&) = default;
  pipeline& operator=(pipeline&&) = default;

  sample run(sample in) const;
  std::vector<std::string> describe() const;  // one repr() per step
  size_t size() const { return steps_.size(); }

  // The (w, h) to hand to PIL's Image.draft('RGB', (w, h)) before decoding (`input.draft`):
  // what the first step that changes the image size requests (Resize to an int or [h, w]);
  // empty when that step requests none (a crop, a pad, Resize with max_size) or no step
  // changes the size.
  cv::Size draft_request() const;

 private:
  std::vector<std::shared_ptr<const transform>> steps_;
};

// Builds the pipeline from a spec's `preprocess` node: either a sequence of single-key maps
// (`- Resize: {size: 32}`), or a preset map (`{preset: ImageClassification, crop_size: 224, ...}`),
// which expands to the transforms torchvision's preset runs. `source` names the file for errors.
pipeline build_pipeline(const YAML::Node& preprocess, const transform_registry& registry,
                        const std::string& source);

}  // namespace ptjs
