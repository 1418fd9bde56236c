// `ptjs run`: the batch job. Workers decode and preprocess in parallel into a bounded window,
// one thread collates batches, lanes run their forwards at once, records are written in input
// order.
// No libtorch here.
#pragma once

#include <atomic>
#include <string>
#include <vector>

namespace ptjs {

struct run_options {
  std::string model;
  std::string pipeline;
  std::vector<std::string> inputs;  // files, folders (recursive, sorted) or "-" (stdin list)
  std::string output;               // empty: stdout
  std::string format = "jsonl";     // jsonl | csv
  int batch_size = 8;
  int workers = 0;                  // 0: one per core
  int threads = 0;                  // libtorch intra-op threads; 0: 1 per lane, or every core for one lane
  int lanes = 0;                    // batches scored at once; 0: one per core on CPU unless threads is
                                    // given, else 1
  int topk = 0;                     // 0: from the spec
  std::string labels;
  std::string device;
  bool draft = false;               // --draft: input.draft on, whatever the spec says
  bool no_optimize = false;         // --no-optimize: run the module as loaded (spec optimize: false)
  int progress = -1;                // -1: when stderr is a terminal; 0 off; 1 on
  bool quiet = false;
  bool fail_fast = false;
  bool resume = false;
  int shard_index = 0;
  int shard_count = 1;
  std::string report;               // non-empty: write an HTML report of the run here
};

// Exit codes as the design fixes them.
enum exit_code { exit_ok = 0, exit_some_failed = 1, exit_usage = 2, exit_interrupted = 130 };

// Runs the job; returns the exit code. Configuration errors print to stderr and return 2.
int run_batch(const run_options& options);

// Set by SIGINT/SIGTERM handlers; the job stops claiming inputs, writes what is done, returns 130.
std::atomic<bool>& stop_requested();

// Lists the inputs: files as given, folders walked recursively in sorted order keeping image
// extensions, "-" read as one path per line from stdin. Missing paths are kept (they become
// error records). Throws invalid_config for a folder loop it cannot walk.
std::vector<std::string> list_inputs(const std::vector<std::string>& inputs);

// Files that already have a record in an output file (JSONL "file" or CSV first column).
// A trailing partial line is cut off the file so appending starts on a fresh line.
std::vector<std::string> completed_files(const std::string& output, const std::string& format);

}  // namespace ptjs
