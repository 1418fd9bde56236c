#include <iostream>
#include <memory>

#include "commands.h"
#include "describe.h"
#include "error.h"
#include "resolve.h"

namespace ptjs {

struct info_options {
  std::string model;
  std::string device;
};

int run_info(const info_options& o) {
  try {
    const auto resolved = resolve_model({o.model, "", o.device}, builtin_registry(), nullptr);
    const auto& info = resolved.net->info();
    std::cout << "file: " << info.path << "\n"
              << "format: " << info.format << " (" << info.platform << ")\n"
              << "libtorch: " << info.libtorch_version << "\n"
              << "methods:";
    for (const auto& m : info.methods) std::cout << " " << m;
    std::cout << "\nforward: " << info.forward_schema << "\ninputs:";
    for (const auto& name : info.input_names) std::cout << " " << name;
    std::cout << "\nembedded spec (ptjs.yaml): " << (info.embedded_spec.empty() ? "none" : "yes") << "\n"
              << "pipeline from: " << resolved.pipeline_origin << "\n";
    print_spec_summary(std::cout, resolved.spec, resolved.preprocess);
    if (!info.embedded_spec.empty()) std::cout << "--- embedded ptjs.yaml ---\n" << info.embedded_spec << "\n";
    return 0;
  } catch (const error& e) {
    std::cerr << "ptjs info: " << e.what() << "\n";
    return 2;
  }
}

void setup_info(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<info_options>();
  auto* cmd = app.add_subcommand("info", "Show a model's methods, forward signature, embedded spec and expected input");
  cmd->add_option("--model,-m", opts->model, "TorchScript .pt, AOTInductor package .pt2, or model spec .yaml")->required();
  cmd->add_option("--device", opts->device, "cpu, cuda or cuda:N");
  cmd->callback([opts, &exit_code] { exit_code = run_info(*opts); });
}

}  // namespace ptjs
