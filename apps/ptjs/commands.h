// The subcommands of the ptjs executable: each has an options struct, a setup_* that declares
// its flags on a CLI11 subcommand, and a run_* that does the work and returns the exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace ptjs {

// Each setup_* registers its subcommand and stores the exit code of its run in `exit_code`.
void setup_run(CLI::App& app, int& exit_code);
void setup_validate(CLI::App& app, int& exit_code);
void setup_info(CLI::App& app, int& exit_code);
void setup_preprocess(CLI::App& app, int& exit_code);
void setup_serve(CLI::App& app, int& exit_code);
void setup_eval(CLI::App& app, int& exit_code);
void setup_compare(CLI::App& app, int& exit_code);

}  // namespace ptjs
