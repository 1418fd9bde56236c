#include "model_spec.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "error.h"
#include "registry.h"

namespace ptjs {
namespace {

[[noreturn]] void fail_at(const std::string& source, const YAML::Node& node, const std::string& what) {
  throw error(error_code::invalid_config, format_location(source, node.Mark()) + what);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Rejects keys of `map` that are not in `accepted`, naming the owner and the accepted keys.
void check_keys(const std::string& source, const YAML::Node& map, const std::string& owner,
                const std::vector<std::string>& accepted) {
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) fail_at(source, kv.first, owner + "keys must be plain names");
    const auto key = kv.first.as<std::string>();
    if (std::find(accepted.begin(), accepted.end(), key) == accepted.end())
      fail_at(source, kv.first, owner + "unknown key '" + key + "' (accepted: " + join(accepted) + ")");
  }
}

template <typename T>
T scalar_as(const std::string& source, const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) fail_at(source, node, what + " must be a " + "scalar");
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    fail_at(source, node, what + " has a bad value '" + node.Scalar() + "'");
  }
}

bool scalar_bool(const std::string& source, const YAML::Node& node, const std::string& what) {
  bool v = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v))
    fail_at(source, node, what + " must be true or false, got " +
                              (node.IsScalar() ? "'" + node.Scalar() + "'" : std::string("a non-scalar")));
  return v;
}

int positive_int(const std::string& source, const YAML::Node& node, const std::string& what) {
  const int v = scalar_as<int>(source, node, what);
  if (v <= 0) fail_at(source, node, what + " must be positive, got " + std::to_string(v));
  return v;
}

std::string join_path(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  return dir + "/" + path;
}

// One tensor: `input: {type: tensor, name, shape, datatype}` itself, or an item of its `tensors`.
tensor_decl parse_tensor_decl(const std::string& source, const YAML::Node& node, const std::vector<std::string>& keys) {
  tensor_decl decl;
  check_keys(source, node, "input: ", keys);
  if (node["name"]) decl.name = scalar_as<std::string>(source, node["name"], "input: 'name'");
  if (node["datatype"]) {
    decl.datatype = scalar_as<std::string>(source, node["datatype"], "input: 'datatype'");
    static const std::vector<std::string> types = {"FP32", "FP64", "FP16", "BF16", "INT64", "INT32",
                                                   "INT16", "INT8", "UINT8", "BOOL"};
    if (std::find(types.begin(), types.end(), decl.datatype) == types.end())
      fail_at(source, node["datatype"], "input: 'datatype' must be one of " + join(types) +
                                            ", got '" + decl.datatype + "'");
  }
  const YAML::Node shape = node["shape"];
  if (!shape || !shape.IsSequence() || shape.size() == 0)
    fail_at(source, shape ? shape : node, "input: a tensor input needs 'shape', e.g. [-1, 4]");
  for (const auto& dim : shape) {
    const auto v = scalar_as<int64_t>(source, dim, "input: 'shape'");
    if (v < -1 || v == 0) fail_at(source, dim, "input: 'shape' dimensions must be positive or -1, got " + std::to_string(v));
    decl.shape.push_back(v);
  }
  return decl;
}

void parse_input(model_spec& spec, const YAML::Node& node) {
  const auto& source = spec.source;
  if (!node.IsMap()) fail_at(source, node, "'input' must be a map, e.g. {type: image, mode: RGB}");
  if (node["type"]) {
    spec.input_type = scalar_as<std::string>(source, node["type"], "input: 'type'");
    if (spec.input_type != "image" && spec.input_type != "tensor")
      fail_at(source, node["type"], "input: 'type' must be one of image, tensor, got '" + spec.input_type + "'");
  }
  if (spec.input_type == "tensor" && node["tensors"]) {
    // Several inputs, one per forward argument in order, as Triton's config lists them.
    check_keys(source, node, "input: ", {"type", "tensors"});
    const YAML::Node list = node["tensors"];
    if (!list.IsSequence() || list.size() == 0)
      fail_at(source, list, "input: 'tensors' must be a list, e.g. [{name: ids, shape: [-1, -1], datatype: INT64}, ...]");
    for (const auto& item : list) {
      if (!item.IsMap()) fail_at(source, item, "input: each of 'tensors' must be a map, e.g. {name: ids, shape: [-1, -1]}");
      spec.inputs.push_back(parse_tensor_decl(source, item, {"name", "shape", "datatype"}));
      for (size_t i = 0; i + 1 < spec.inputs.size(); ++i)
        if (!spec.inputs.back().name.empty() && spec.inputs[i].name == spec.inputs.back().name)
          fail_at(source, item, "input: two tensors are named '" + spec.inputs.back().name + "'");
    }
    return;
  }
  if (spec.input_type == "tensor") {
    spec.inputs = {parse_tensor_decl(source, node, {"type", "name", "shape", "datatype"})};
    return;
  }
  check_keys(source, node, "input: ", {"type", "mode", "exif_transpose", "draft"});
  if (node["mode"]) {
    const auto mode = scalar_as<std::string>(source, node["mode"], "input: 'mode'");
    if (mode != "RGB" && mode != "L")
      fail_at(source, node["mode"], "input: 'mode' must be one of RGB, L, got '" + mode + "'");
    spec.mode = parse_color_mode(mode);
  }
  if (node["exif_transpose"])
    spec.exif_transpose = scalar_bool(source, node["exif_transpose"], "input: 'exif_transpose'");
  if (node["draft"]) spec.draft = scalar_bool(source, node["draft"], "input: 'draft'");
}

void parse_postprocess(model_spec& spec, const YAML::Node& node) {
  const auto& source = spec.source;
  if (!node.IsSequence())
    fail_at(source, node, "'postprocess' must be a list, e.g. [{Softmax: {dim: 1}}, {TopK: {k: 5}}]");
  static const std::vector<std::string> names = {"Softmax", "Sigmoid", "TopK", "Argmax", "Raw"};
  for (const auto& item : node) {
    if (!item.IsMap() || item.size() != 1)
      fail_at(source, item, "each postprocess step must be a single-key map, e.g. - TopK: {k: 5}");
    const auto it = item.begin();
    if (!it->first.IsScalar()) fail_at(source, it->first, "a postprocess step must be named, e.g. - TopK: {k: 5}");
    postprocess_step step;
    step.name = it->first.as<std::string>();
    if (std::find(names.begin(), names.end(), step.name) == names.end())
      fail_at(source, it->first, "unknown postprocess step '" + step.name + "' (accepted: " + join(names) + ")");
    const YAML::Node args = it->second;
    if (args && !args.IsNull()) {
      if (!args.IsMap()) fail_at(source, args, step.name + ": arguments must be a map");
      if (step.name == "Softmax") {
        check_keys(source, args, step.name + ": ", {"dim"});
        if (args["dim"]) step.dim = scalar_as<int>(source, args["dim"], step.name + ": 'dim'");
      } else if (step.name == "TopK") {
        check_keys(source, args, step.name + ": ", {"k"});
        if (args["k"]) step.k = positive_int(source, args["k"], step.name + ": 'k'");
      } else {
        check_keys(source, args, step.name + ": ", {});
      }
    }
    spec.postprocess.push_back(step);
  }
}

void parse_batching(model_spec& spec, const YAML::Node& node) {
  const auto& source = spec.source;
  if (!node.IsMap()) fail_at(source, node, "'batching' must be a map, e.g. {max_batch_size: 16, max_delay_ms: 5}");
  check_keys(source, node, "batching: ", {"max_batch_size", "max_delay_ms"});
  if (node["max_batch_size"])
    spec.max_batch_size = positive_int(source, node["max_batch_size"], "batching: 'max_batch_size'");
  if (node["max_delay_ms"]) {
    spec.max_delay_ms = scalar_as<int>(source, node["max_delay_ms"], "batching: 'max_delay_ms'");
    if (spec.max_delay_ms < 0)
      fail_at(source, node["max_delay_ms"], "batching: 'max_delay_ms' must be >= 0, got " + std::to_string(spec.max_delay_ms));
  }
}

}  // namespace

bool model_spec::gives(const std::string& key) const {
  return std::find(given_keys.begin(), given_keys.end(), key) != given_keys.end();
}

model_spec parse_model_spec(const std::string& text, const std::string& source, const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw error(error_code::invalid_config,
                format_location(source, e.mark) + "not valid YAML: " + e.msg);
  }
  model_spec spec;
  spec.source = source;
  spec.base_dir = base_dir;
  if (!root || root.IsNull()) throw error(error_code::invalid_config, source + ": the spec is empty");
  if (!root.IsMap()) fail_at(source, root, "a model spec must be a map with keys like name, model, input, preprocess");
  check_keys(source, root, "", {"name", "model", "device", "precision", "optimize", "input", "preprocess", "postprocess", "labels", "batching"});
  for (const auto& kv : root) spec.given_keys.push_back(kv.first.Scalar());

  if (root["name"]) spec.name = scalar_as<std::string>(source, root["name"], "'name'");
  if (root["model"]) spec.model_path = join_path(base_dir, scalar_as<std::string>(source, root["model"], "'model'"));
  if (root["device"]) {
    spec.device = scalar_as<std::string>(source, root["device"], "'device'");
    if (spec.device != "cpu" && spec.device.rfind("cuda", 0) != 0)
      fail_at(source, root["device"], "'device' must be cpu, cuda or cuda:N, got '" + spec.device + "'");
  }
  if (root["precision"]) {
    spec.precision = scalar_as<std::string>(source, root["precision"], "'precision'");
    if (spec.precision != "fp32" && spec.precision != "fp16" && spec.precision != "bf16")
      fail_at(source, root["precision"], "'precision' must be one of fp32, fp16, bf16, got '" + spec.precision + "'");
  }
  if (root["optimize"]) spec.optimize = scalar_bool(source, root["optimize"], "'optimize'");
  if (root["input"]) parse_input(spec, root["input"]);
  if (root["preprocess"]) {
    spec.preprocess = root["preprocess"];
    if (spec.input_type == "tensor" && !spec.preprocess.IsNull() && spec.preprocess.size() > 0)
      fail_at(source, spec.preprocess, "'preprocess' applies to image inputs only; this spec has input type tensor");
  }
  if (root["postprocess"]) parse_postprocess(spec, root["postprocess"]);
  if (root["labels"]) {
    const YAML::Node labels = root["labels"];
    if (labels.IsSequence()) {
      for (const auto& label : labels) spec.labels.push_back(scalar_as<std::string>(source, label, "'labels'"));
    } else {
      spec.labels = load_labels(join_path(base_dir, scalar_as<std::string>(source, labels, "'labels'")));
    }
  }
  if (root["batching"]) parse_batching(spec, root["batching"]);
  if (spec.name.empty() && !spec.model_path.empty()) {
    auto stem = spec.model_path.substr(spec.model_path.find_last_of('/') + 1);
    spec.name = stem.substr(0, stem.find('.'));
  }
  return spec;
}

model_spec load_model_spec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(error_code::invalid_config, "cannot read model spec '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  const auto slash = path.find_last_of('/');
  return parse_model_spec(text.str(), path, slash == std::string::npos ? "." : path.substr(0, slash));
}

model_spec merge_specs(const model_spec& base, const model_spec& overlay) {
  model_spec out = base;
  out.source = overlay.source;
  if (overlay.gives("name")) out.name = overlay.name;
  if (overlay.gives("model")) out.model_path = overlay.model_path;
  if (overlay.gives("device")) out.device = overlay.device;
  if (overlay.gives("precision")) out.precision = overlay.precision;
  if (overlay.gives("optimize")) out.optimize = overlay.optimize;
  if (overlay.gives("input")) {
    out.input_type = overlay.input_type;
    out.mode = overlay.mode;
    out.exif_transpose = overlay.exif_transpose;
    out.draft = overlay.draft;
    out.inputs = overlay.inputs;
  }
  if (overlay.gives("preprocess")) out.preprocess = overlay.preprocess;
  if (overlay.gives("postprocess")) out.postprocess = overlay.postprocess;
  if (overlay.gives("labels")) out.labels = overlay.labels;
  if (overlay.gives("batching")) {
    out.max_batch_size = overlay.max_batch_size;
    out.max_delay_ms = overlay.max_delay_ms;
  }
  for (const auto& key : overlay.given_keys)
    if (!out.gives(key)) out.given_keys.push_back(key);
  return out;
}

decode_options decode_options_for(const model_spec& spec, const pipeline& steps, decode_options base) {
  base.exif_transpose = spec.exif_transpose;
  base.draft_size = spec.draft && spec.input_type == "image" ? steps.draft_request() : cv::Size();
  return base;
}

YAML::Node imagenet_preset() {
  return YAML::Load("{preset: ImageClassification, crop_size: 224, resize_size: 256}");
}

std::vector<std::string> load_labels(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw error(error_code::invalid_config, "cannot read labels file '" + path + "'");
  std::vector<std::string> labels;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
  }
  while (!labels.empty() && labels.back().empty()) labels.pop_back();
  return labels;
}

}  // namespace ptjs
