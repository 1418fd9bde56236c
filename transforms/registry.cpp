#include "registry.h"

#include <algorithm>
#include <utility>

#include "error.h"
#include "presets.h"

namespace ptjs {

namespace {

// How a node reads in a message: the scalar itself, or what kind of thing it is.
std::string describe_node(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: return "'" + n.Scalar() + "'";
    case YAML::NodeType::Sequence: return "a list of " + std::to_string(n.size());
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Null: return "null";
    default: return "nothing";
  }
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

bool is_null(const YAML::Node& n) { return !n.IsDefined() || n.IsNull(); }

}  // namespace

std::string format_location(const std::string& source, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return source + ": ";
  return source + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
}

transform_args::transform_args(std::string source, std::string transform_name, YAML::Node args,
                               YAML::Mark owner_mark)
    : source_(std::move(source)), name_(std::move(transform_name)), args_(std::move(args)),
      owner_mark_(owner_mark) {
  if (args_.IsDefined() && !args_.IsNull() && !args_.IsMap()) {
    fail_at(args_.Mark(), "arguments must be a map of name: value (e.g. {}), got " + describe_node(args_));
  }
}

void transform_args::fail_at(const YAML::Mark& mark, const std::string& message) const {
  throw error(error_code::invalid_config, format_location(source_, mark) + name_ + ": " + message);
}

void transform_args::fail(const std::string& key, const std::string& message) const {
  if (!key.empty() && args_.IsMap()) {
    const YAML::Node& cargs = args_;
    for (auto it = cargs.begin(); it != cargs.end(); ++it) {
      if (it->first.Scalar() == key) {
        // An empty value (`size:`) has no position of its own; point at its key.
        fail_at(it->second.IsNull() || it->second.Mark().is_null() ? it->first.Mark() : it->second.Mark(), message);
      }
    }
  }
  fail_at(owner_mark_, message);
}

YAML::Node transform_args::lookup(const std::string& key) {
  if (used_.insert(key).second) asked_.push_back(key);
  if (!args_.IsMap()) return YAML::Node();
  const YAML::Node& cargs = args_;
  for (auto it = cargs.begin(); it != cargs.end(); ++it) {
    if (it->first.Scalar() == key) return it->second;
  }
  return YAML::Node();
}

bool transform_args::has(const std::string& key) const {
  if (!args_.IsMap()) return false;
  const YAML::Node& cargs = args_;
  for (auto it = cargs.begin(); it != cargs.end(); ++it) {
    if (it->first.Scalar() == key) return !it->second.IsNull();
  }
  return false;
}

YAML::Node transform_args::node(const std::string& key) { return lookup(key); }

int transform_args::get_int(const std::string& key, std::optional<int> fallback) {
  const YAML::Node n = lookup(key);
  if (is_null(n)) {
    if (fallback) return *fallback;
    fail(key, "'" + key + "' is required (an integer)");
  }
  int v = 0;
  if (!n.IsScalar() || !YAML::convert<int>::decode(n, v)) {
    fail(key, "'" + key + "' must be an integer, got " + describe_node(n));
  }
  return v;
}

std::optional<int> transform_args::get_optional_int(const std::string& key) {
  const YAML::Node n = lookup(key);
  if (is_null(n)) return std::nullopt;
  int v = 0;
  if (!n.IsScalar() || !YAML::convert<int>::decode(n, v)) {
    fail(key, "'" + key + "' must be an integer or null, got " + describe_node(n));
  }
  return v;
}

double transform_args::get_double(const std::string& key, std::optional<double> fallback) {
  const YAML::Node n = lookup(key);
  if (is_null(n)) {
    if (fallback) return *fallback;
    fail(key, "'" + key + "' is required (a number)");
  }
  double v = 0;
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v)) {
    fail(key, "'" + key + "' must be a number, got " + describe_node(n));
  }
  return v;
}

bool transform_args::get_bool(const std::string& key, std::optional<bool> fallback) {
  const YAML::Node n = lookup(key);
  if (is_null(n)) {
    if (fallback) return *fallback;
    fail(key, "'" + key + "' is required (true or false)");
  }
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
    fail(key, "'" + key + "' must be true or false, got " + describe_node(n));
  }
  return v;
}

std::string transform_args::get_string(const std::string& key, std::optional<std::string> fallback) {
  const YAML::Node n = lookup(key);
  if (is_null(n)) {
    if (fallback) return *fallback;
    fail(key, "'" + key + "' is required (a string)");
  }
  if (!n.IsScalar()) fail(key, "'" + key + "' must be a string, got " + describe_node(n));
  return n.Scalar();
}

std::string transform_args::get_choice(const std::string& key, const std::vector<std::string>& accepted,
                                       std::optional<std::string> fallback) {
  const YAML::Node n = lookup(key);
  if (is_null(n) && fallback) return *fallback;
  if (is_null(n) || !n.IsScalar() ||
      std::find(accepted.begin(), accepted.end(), n.Scalar()) == accepted.end()) {
    fail(key, "'" + key + "' must be one of " + join_names(accepted) + ", got " + describe_node(n));
  }
  return n.Scalar();
}

std::vector<int> transform_args::get_int_list(const std::string& key, const std::vector<size_t>& allowed_sizes,
                                              std::optional<std::vector<int>> fallback) {
  const YAML::Node n = lookup(key);
  std::string sizes;
  for (size_t i = 0; i < allowed_sizes.size(); ++i) {
    sizes += (i == 0 ? "" : (i + 1 == allowed_sizes.size() ? " or " : ", ")) + std::to_string(allowed_sizes[i]);
  }
  const std::string expected = "an integer or a list of " + sizes + " integers";
  if (is_null(n)) {
    if (fallback) return *fallback;
    fail(key, "'" + key + "' is required (" + expected + ")");
  }
  std::vector<int> out;
  int v = 0;
  if (n.IsScalar()) {
    if (!YAML::convert<int>::decode(n, v)) fail(key, "'" + key + "' must be " + expected + ", got " + describe_node(n));
    out.push_back(v);
  } else if (n.IsSequence()) {
    for (const YAML::Node& item : n) {
      if (!item.IsScalar() || !YAML::convert<int>::decode(item, v)) {
        fail_at(item.Mark(), "'" + key + "' must be " + expected + ", got " + describe_node(item) + " in the list");
      }
      out.push_back(v);
    }
  } else {
    fail(key, "'" + key + "' must be " + expected + ", got " + describe_node(n));
  }
  if (n.IsSequence() && std::find(allowed_sizes.begin(), allowed_sizes.end(), out.size()) == allowed_sizes.end()) {
    fail(key, "'" + key + "' must be " + expected + ", got a list of " + std::to_string(out.size()));
  }
  return out;
}

std::vector<double> transform_args::get_double_list(const std::string& key,
                                                    std::optional<std::vector<double>> fallback) {
  const YAML::Node n = lookup(key);
  if (is_null(n)) {
    if (fallback) return *fallback;
    fail(key, "'" + key + "' is required (a number or a list of numbers)");
  }
  std::vector<double> out;
  double v = 0;
  if (n.IsScalar()) {
    if (!YAML::convert<double>::decode(n, v)) {
      fail(key, "'" + key + "' must be a number or a list of numbers, got " + describe_node(n));
    }
    out.push_back(v);
  } else if (n.IsSequence() && n.size() > 0) {
    for (const YAML::Node& item : n) {
      if (!item.IsScalar() || !YAML::convert<double>::decode(item, v)) {
        fail_at(item.Mark(), "'" + key + "' must be a list of numbers, got " + describe_node(item) + " in the list");
      }
      out.push_back(v);
    }
  } else {
    fail(key, "'" + key + "' must be a number or a non-empty list of numbers, got " + describe_node(n));
  }
  return out;
}

void transform_args::finish() const {
  if (!args_.IsMap()) return;
  const YAML::Node& cargs = args_;
  for (auto it = cargs.begin(); it != cargs.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (used_.count(key) == 0) {
      fail_at(it->first.Mark(), "unknown argument '" + key + "'; accepted: " +
                                    (asked_.empty() ? std::string("none") : join_names(asked_)));
    }
  }
}

void transform_registry::add(const std::string& name, transform_factory factory) {
  factories_[name] = std::move(factory);
}

void transform_registry::refuse(const std::string& name, const std::string& reason) { refused_[name] = reason; }

std::unique_ptr<transform> transform_registry::create(const std::string& name, transform_args& args) const {
  const auto refused = refused_.find(name);
  if (refused != refused_.end()) args.fail("", refused->second);
  const auto it = factories_.find(name);
  if (it == factories_.end()) {
    args.fail("", "unknown transform; accepted: " + join_names(names()));
  }
  std::unique_ptr<transform> t = it->second(args);
  args.finish();
  return t;
}

std::vector<std::string> transform_registry::names() const {
  std::vector<std::string> out;
  for (const auto& kv : factories_) out.push_back(kv.first);
  return out;
}

pipeline::pipeline(std::vector<std::unique_ptr<transform>> steps) {
  for (auto& s : steps) steps_.emplace_back(std::move(s));
}

sample pipeline::run(sample in) const {
  for (size_t i = 0; i < steps_.size(); ++i) {
    const transform& step = *steps_[i];
    try {
      // A step whose output the next one only crops may compute just what is kept.
      if (i + 1 < steps_.size()) {
        if (auto both = step.apply_then(in, *steps_[i + 1])) {
          in = std::move(*both);
          ++i;
          continue;
        }
      }
      in = step.apply(std::move(in));
    } catch (const error&) {
      throw;
    } catch (const cv::Exception& e) {
      throw error(error_code::internal, step.repr() + ": " + e.what());
    }
  }
  return in;
}

cv::Size pipeline::draft_request() const {
  for (const auto& step : steps_) {
    const size_effect effect = step->effect_on_size();
    if (!effect.keeps_size) return effect.draft_request;
  }
  return {};
}

std::vector<std::string> pipeline::describe() const {
  std::vector<std::string> out;
  for (const auto& step : steps_) out.push_back(step->repr());
  return out;
}

pipeline build_pipeline(const YAML::Node& preprocess, const transform_registry& registry,
                        const std::string& source) {
  const auto fail = [&](const YAML::Mark& mark, const std::string& what) {
    throw error(error_code::invalid_config, format_location(source, mark) + "preprocess: " + what);
  };
  if (!preprocess.IsDefined() || preprocess.IsNull()) return pipeline();
  if (preprocess.IsMap()) {
    if (!preprocess["preset"]) {
      fail(preprocess.Mark(), "must be a list of transforms (- Resize: {size: 256}) or a map with 'preset'");
    }
    return pipeline(expand_preset(preprocess, source));
  }
  if (!preprocess.IsSequence()) {
    fail(preprocess.Mark(), "must be a list of transforms (- Resize: {size: 256}) or a map with 'preset', got '" +
                                preprocess.Scalar() + "'");
  }
  std::vector<std::unique_ptr<transform>> steps;
  size_t index = 0;
  for (const YAML::Node& item : preprocess) {
    ++index;
    if (!item.IsMap() || item.size() != 1) {
      fail(item.Mark(), "item " + std::to_string(index) +
                            " must be a single-key map naming one transform, e.g. '- Resize: {size: 256}'" +
                            (item.IsMap() ? ", got " + std::to_string(item.size()) + " keys" : ""));
    }
    const auto entry = item.begin();
    if (!entry->first.IsScalar()) fail(entry->first.Mark(), "a transform name must be a string");
    transform_args args(source, entry->first.Scalar(), entry->second, entry->first.Mark());
    steps.push_back(registry.create(entry->first.Scalar(), args));
  }
  return pipeline(std::move(steps));
}

}  // namespace ptjs
