#include <iostream>
#include <memory>

#include "commands.h"
#include "error.h"
#include "image_io.h"
#include "npy.h"
#include "resolve.h"

namespace ptjs {

struct preprocess_options {
  std::string model;
  std::string pipeline;
  std::string input;
  std::string output;
  bool draft = false;
};

int run_preprocess(const preprocess_options& o) {
  model_spec spec;
  pipeline steps;
  try {
    if (!o.model.empty()) {
      auto resolved = resolve_model({o.model, o.pipeline, ""}, builtin_registry(), &std::cerr);
      spec = resolved.spec;
      steps = std::move(resolved.preprocess);
    } else {
      spec = load_model_spec(o.pipeline);
      steps = build_pipeline(spec.preprocess && !spec.preprocess.IsNull() ? spec.preprocess : imagenet_preset(),
                             builtin_registry(), o.pipeline);
    }
    if (o.draft) spec.draft = true;
    if (spec.input_type != "image") throw error(error_code::invalid_config, "this model takes tensors, not images: nothing to preprocess");
  } catch (const error& e) {
    std::cerr << "ptjs preprocess: " << e.what() << "\n";
    return 2;
  }
  try {
    sample s;
    s.mat = decode_image(read_file_bytes(o.input), spec.mode, decode_options_for(spec, steps));
    s = steps.run(std::move(s));
    save_npy(o.output, sample_to_npy(s));
    return 0;
  } catch (const error& e) {
    std::cerr << "ptjs preprocess: " << o.input << ": " << e.what() << "\n";
    return 1;
  }
}

void setup_preprocess(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<preprocess_options>();
  auto* cmd = app.add_subcommand("preprocess", "Write the exact float32 tensor (C,H,W) the model would receive, as .npy");
  auto* model = cmd->add_option("--model,-m", opts->model, "TorchScript .pt, AOTInductor package .pt2, or model spec .yaml");
  auto* pipe = cmd->add_option("--pipeline", opts->pipeline, "Pipeline YAML");
  model->excludes(pipe);
  cmd->add_option("--input,-i", opts->input, "Image file")->required();
  cmd->add_option("--output,-o", opts->output, "Output .npy")->required();
  cmd->add_flag("--draft", opts->draft, "Decode large JPEGs reduced as PIL's Image.draft does (input.draft: true)");
  cmd->callback([opts, &exit_code] {
    if (opts->model.empty() && opts->pipeline.empty()) throw CLI::RequiredError("--model or --pipeline");
    exit_code = run_preprocess(*opts);
  });
}

}  // namespace ptjs
