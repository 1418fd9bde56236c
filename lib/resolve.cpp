#include "resolve.h"

#include <sys/stat.h>

#include "error.h"

namespace ptjs {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string dir_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

const transform_registry& builtin_registry() {
  static const transform_registry registry = [] {
    transform_registry r;
    register_builtin_transforms(r);
    return r;
  }();
  return registry;
}

resolved_model resolve_model(const resolve_options& options, const transform_registry& registry,
                             std::ostream* notices) {
  resolved_model out;
  std::string model_path = options.model;
  const bool is_spec = ends_with(options.model, ".yaml") || ends_with(options.model, ".yml");
  if (is_spec) {
    out.spec = load_model_spec(options.model);
    out.pipeline_origin = options.model;
    if (out.spec.model_path.empty())
      throw error(error_code::invalid_config, options.model + ": a model spec needs 'model:' naming the .pt or .pt2 file");
    model_path = out.spec.model_path;
  } else if (!is_file(options.model)) {
    throw error(error_code::not_found, "cannot load model '" + options.model + "': no such file");
  }

  model_options load{options.device.empty() ? (is_spec ? out.spec.device : "cpu") : options.device,
                     is_spec ? out.spec.precision : "fp32"};
  std::shared_ptr<model> net = std::make_shared<model>(model_path, load);
  if (!is_spec) {
    const auto& embedded = net->info().embedded_spec;
    const std::string stem = model_path.substr(0, model_path.find_last_of('.'));
    if (!embedded.empty()) {
      out.spec = parse_model_spec(embedded, model_path + "!ptjs.yaml", dir_of(model_path));
      out.pipeline_origin = "the spec embedded in " + model_path;
    } else if (is_file(stem + ".yaml")) {
      out.spec = load_model_spec(stem + ".yaml");
      out.pipeline_origin = stem + ".yaml";
    } else {
      out.pipeline_origin = "the ImageNet classification preset (no spec in " + model_path + ")";
    }
    out.spec.model_path = model_path;
  }
  if (!options.pipeline.empty()) {
    out.spec = merge_specs(out.spec, load_model_spec(options.pipeline));
    out.spec.model_path = model_path;
    out.pipeline_origin = options.pipeline;
  }
  if (out.spec.name.empty()) {
    const auto base = model_path.substr(model_path.find_last_of('/') + 1);
    out.spec.name = base.substr(0, base.find('.'));
  }
  if (!options.device.empty()) out.spec.device = options.device;

  if (out.spec.input_type == "image") {
    YAML::Node preprocess = out.spec.preprocess;
    std::string source = out.spec.source;
    if (!preprocess || preprocess.IsNull()) {
      preprocess = imagenet_preset();
      source = "ImageNet preset";
      if (notices != nullptr && out.pipeline_origin.rfind("the ImageNet", 0) == 0)
        *notices << "ptjs: no pipeline given, embedded or beside " << model_path
                 << "; using the ImageNet classification preset (resize 256, crop 224, ImageNet mean/std)\n";
    }
    out.preprocess = build_pipeline(preprocess, registry, source);
    if (out.spec.postprocess.empty()) out.spec.postprocess = {{"Softmax", 1, 5}, {"TopK", 1, 5}};
  } else if (out.spec.postprocess.empty()) {
    out.spec.postprocess = {{"Raw", 1, 5}};
  }
  // An embedded or sibling spec may ask for another device or precision than the first load.
  if (out.spec.device != load.device || out.spec.precision != load.precision)
    net = std::make_shared<model>(model_path, model_options{out.spec.device, out.spec.precision});
  if (!options.optimize) out.spec.optimize = false;
  net->set_optimize(out.spec.optimize);
  out.net = std::move(net);
  return out;
}

}  // namespace ptjs
