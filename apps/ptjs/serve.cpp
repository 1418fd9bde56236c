#include "commands.h"

namespace ptjs {

void setup_serve(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("serve", "Serve models over HTTP (KServe v2 and TorchServe-compatible endpoints)");
  cmd->callback([&exit_code] { exit_code = 2; });
}

}  // namespace ptjs
