#include <iostream>
#include <memory>
#include <sys/stat.h>

#include "commands.h"
#include "describe.h"
#include "error.h"
#include "postprocess.h"
#include "resolve.h"

namespace ptjs {

struct validate_options {
  std::string spec;
};

int run_validate(const validate_options& o) {
  try {
    model_spec spec;
    pipeline preprocess;
    const bool is_yaml = o.spec.size() > 5 && (o.spec.substr(o.spec.size() - 5) == ".yaml" || o.spec.substr(o.spec.size() - 4) == ".yml");
    if (is_yaml) {
      spec = load_model_spec(o.spec);
      if (spec.input_type == "image")
        preprocess = build_pipeline(spec.preprocess && !spec.preprocess.IsNull() ? spec.preprocess : imagenet_preset(),
                                    builtin_registry(), spec.preprocess ? o.spec : "ImageNet preset");
      struct stat st {};
      if (!spec.model_path.empty() && ::stat(spec.model_path.c_str(), &st) != 0)
        throw error(error_code::invalid_config, o.spec + ": 'model' names '" + spec.model_path + "', which does not exist");
    } else {
      auto resolved = resolve_model({o.spec, "", ""}, builtin_registry(), &std::cerr);
      spec = resolved.spec;
      preprocess = std::move(resolved.preprocess);
    }
    postprocessor check(spec.postprocess, spec.labels);
    std::cout << "spec: " << o.spec << "\n";
    print_spec_summary(std::cout, spec, preprocess);
    std::cout << "OK\n";
    return 0;
  } catch (const error& e) {
    std::cerr << "ptjs validate: " << e.what() << "\n";
    return 2;
  }
}

void setup_validate(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<validate_options>();
  auto* cmd = app.add_subcommand("validate", "Parse and check a model spec (or a .pt's embedded one); print the resolved pipeline");
  cmd->add_option("spec", opts->spec, "Model spec .yaml (or a .pt)")->required();
  cmd->callback([opts, &exit_code] { exit_code = run_validate(*opts); });
}

}  // namespace ptjs
