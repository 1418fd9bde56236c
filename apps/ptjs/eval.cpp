// `ptjs eval`: accuracy of records (or of a model run here) against ground truth, with gates
// that fail a CI job.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "error.h"
#include "evaluation.h"
#include "model_spec.h"
#include "record_reader.h"
#include "report.h"
#include "runner.h"

namespace ptjs {
namespace {

struct eval_options {
  std::string records;  // a file written by ptjs run
  std::string model;    // or a model to run over --input
  std::string input;    // ImageFolder root: the ground truth (and the inputs with --model)
  std::string truth;    // or a CSV file,label
  std::string labels;
  std::string report;
  bool json = false;
  bool quiet = false;
  double min_top1 = -1;
  double min_top5 = -1;
  int64_t max_errors = -1;
};

// Scores the model over the inputs with `ptjs run`'s own engine, into a temporary JSONL file.
std::vector<record> run_model(const eval_options& o, const std::vector<std::string>& inputs, int& run_exit) {
  char path[] = "/tmp/ptjs-eval-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) throw error(error_code::invalid_config, "cannot make a temporary file for the records");
  ::close(fd);
  run_options run;
  run.model = o.model;
  run.inputs = inputs;
  run.output = path;
  run.labels = o.labels;
  run.topk = 5;  // top-5 needs five classes, whatever the spec keeps
  run.quiet = o.quiet;
  run.progress = o.quiet ? 0 : -1;
  run_exit = run_batch(run);
  std::vector<record> records;
  try {
    if (run_exit == exit_ok || run_exit == exit_some_failed) records = read_records(path);
  } catch (...) {
    std::remove(path);
    throw;
  }
  std::remove(path);
  return records;
}

int run_eval(const eval_options& o) {
  const auto usage = [](const std::string& what) {
    std::cerr << "ptjs eval: " << what << "\n";
    return 2;
  };
  if (o.records.empty() == o.model.empty()) return usage("give a records file (from ptjs run) or --model M, one of them");
  if (o.input.empty() == o.truth.empty())
    return usage("say where the ground truth is: --input DIR (torchvision's ImageFolder layout) or --truth FILE.csv (file,label)");
  try {
    std::vector<std::string> inputs;
    ground_truth truth;
    if (!o.input.empty()) {
      inputs = list_inputs({o.input});
      truth = ground_truth_from_folder(o.input, inputs);
    } else {
      truth = ground_truth_from_csv(o.truth);
      for (const auto& [file, name] : truth.class_of) inputs.push_back(file);
    }
    std::vector<record> records;
    if (!o.model.empty()) {
      int run_exit = 0;
      records = run_model(o, inputs, run_exit);
      if (run_exit != exit_ok && run_exit != exit_some_failed) return run_exit;
    } else {
      records = read_records(o.records);
    }
    const std::vector<std::string> labels = o.labels.empty() ? std::vector<std::string>{} : load_labels(o.labels);
    const evaluation e = evaluate(records, truth, labels);
    std::cout << (o.json ? evaluation_json(e) : evaluation_text(e)) << std::flush;
    if (!o.report.empty())
      write_report(o.report, evaluation_report(e, "ptjs eval: " + (o.model.empty() ? o.records : o.model)));
    // Gates: the first that fails says so in one line and the job fails.
    const auto gate = [](const std::string& line) {
      std::cerr << "ptjs eval: gate failed: " << line << "\n";
      return 1;
    };
    if (o.min_top1 >= 0 && !(e.top1() >= o.min_top1))
      return gate("top-1 " + std::to_string(e.top1()) + " < --min-top1 " + std::to_string(o.min_top1));
    if (o.min_top5 >= 0 && !(e.top5() >= o.min_top5))
      return gate("top-5 " + std::to_string(e.top5()) + " < --min-top5 " + std::to_string(o.min_top5));
    if (o.max_errors >= 0 && e.errors > o.max_errors)
      return gate(std::to_string(e.errors) + " error records > --max-errors " + std::to_string(o.max_errors));
    return 0;
  } catch (const error& e) {
    return usage(e.what());
  }
}

}  // namespace

void setup_eval(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<eval_options>();
  auto* cmd = app.add_subcommand("eval", "Accuracy against ground truth (ImageFolder folders or a CSV), with gates for CI");
  cmd->add_option("records", o->records, "Records written by ptjs run (JSONL or CSV)");
  cmd->add_option("--model,-m", o->model, "Score this model over --input instead of reading records");
  cmd->add_option("--input,-i", o->input, "Ground truth as torchvision's ImageFolder: DIR/<class>/<image>, classes sorted by name");
  cmd->add_option("--truth", o->truth, "Ground truth as a CSV file,label (label: a class name or index)");
  cmd->add_option("--labels", o->labels, "Labels file, one per line: what class names the model's indices stand for");
  cmd->add_flag("--json", o->json, "Print the results as JSON");
  cmd->add_option("--report", o->report, "Also write a self-contained HTML report here");
  cmd->add_flag("--quiet,-q", o->quiet, "With --model: no progress or summary of the run on stderr");
  cmd->add_option("--min-top1", o->min_top1, "Fail (exit 1) when top-1 accuracy is below X (0-1)")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--min-top5", o->min_top5, "Fail (exit 1) when top-5 accuracy is below X (0-1)")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-errors", o->max_errors, "Fail (exit 1) when more than N inputs failed")->check(CLI::NonNegativeNumber);
  cmd->callback([o, &exit_code] { exit_code = run_eval(*o); });
}

}  // namespace ptjs
