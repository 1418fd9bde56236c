#include <memory>
#include <string>

#include "commands.h"
#include "runner.h"

namespace ptjs {

void setup_run(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<run_options>();
  auto shard = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("run", "Score image files in batch; one record per input, in input order");
  cmd->add_option("--model,-m", opts->model, "TorchScript .pt, AOTInductor package .pt2, or model spec .yaml")->required();
  cmd->add_option("--pipeline", opts->pipeline, "Pipeline YAML overriding the model's own");
  cmd->add_option("--input,-i", opts->inputs, "Files, folders (recursive, sorted) or - for a list on stdin")->required();
  cmd->add_option("--output,-o", opts->output, "Write records here instead of stdout (- is stdout)");
  cmd->add_option("--format", opts->format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));
  cmd->add_option("--batch-size,-b", opts->batch_size, "Samples per forward")->check(CLI::PositiveNumber);
  cmd->add_option("--workers", opts->workers, "Preprocessing threads (default: a quarter of the cores, at least 1; on cuda all but one)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", opts->threads, "libtorch threads per forward (default: 1 per lane; with one lane, every core)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--lanes", opts->lanes, "Batches scored at once (default: one per core on CPU, each forward on one thread, unless --threads is given; 1 on cuda)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--topk", opts->topk, "Keep the K best classes (overrides the spec's TopK)")->check(CLI::PositiveNumber);
  cmd->add_option("--labels", opts->labels, "Labels file, one per line (overrides the spec's)");
  cmd->add_option("--device", opts->device, "cpu, cuda or cuda:N");
  cmd->add_flag("--no-optimize", opts->no_optimize, "Run the model as loaded, not frozen or channels-last (spec optimize: false)");
  cmd->add_flag("--draft", opts->draft, "Decode large JPEGs reduced (1/2, 1/4, 1/8) as PIL's Image.draft does, when the pipeline shrinks them anyway (input.draft: true)");
  cmd->add_flag_callback("--progress", [opts] { opts->progress = 1; }, "Show the progress bar even when stderr is not a terminal");
  cmd->add_flag_callback("--no-progress", [opts] { opts->progress = 0; }, "Never show the progress bar");
  cmd->add_flag("--quiet,-q", opts->quiet, "No progress, notices or summary on stderr");
  cmd->add_flag("--fail-fast", opts->fail_fast, "Stop at the first input that fails");
  cmd->add_flag("--resume", opts->resume, "Skip inputs that already have a record in --output, append the rest");
  cmd->add_option("--report", opts->report, "Also write a self-contained HTML report of the run (throughput, time split, scores, slowest inputs, errors)");
  cmd->add_option("--shard", *shard, "I/N: score only inputs whose position modulo N is I (0-based)");
  cmd->callback([opts, shard, &exit_code] {
    if (!shard->empty()) {
      const auto slash = shard->find('/');
      try {
        if (slash == std::string::npos) throw std::invalid_argument("no slash");
        size_t used = 0;
        opts->shard_index = std::stoi(shard->substr(0, slash), &used);
        if (used != slash) throw std::invalid_argument("index");
        opts->shard_count = std::stoi(shard->substr(slash + 1), &used);
        if (used != shard->size() - slash - 1) throw std::invalid_argument("count");
      } catch (const std::exception&) {
        throw CLI::ValidationError("--shard", "expects I/N, e.g. 0/4, got '" + *shard + "'");
      }
    }
    exit_code = run_batch(*opts);
  });
}

}  // namespace ptjs
