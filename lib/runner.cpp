#include "runner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include <dirent.h>
#include <nlohmann/json.hpp>
#include <opencv2/core/utility.hpp>

#include "error.h"
#include "image_io.h"
#include "log.h"
#include "postprocess.h"
#include "progress.h"
#include "record_reader.h"
#include "report.h"
#include "resolve.h"
#include "sinks.h"

namespace ptjs {
namespace {

using clock_type = std::chrono::steady_clock;

bool has_image_extension(const std::string& name) {
  static const std::set<std::string> extensions = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".dib",
                                                   ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm", ".pbm", ".pnm"};
  const auto dot = name.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return extensions.count(ext) > 0;
}

// Walks `dir` depth-first, following links to folders but never entering one twice (a symlink
// loop is skipped with a notice).
void walk(const std::string& dir, std::set<std::pair<dev_t, ino_t>>& seen, std::vector<std::string>& out) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return;
  if (!seen.insert({st.st_dev, st.st_ino}).second) {
    std::cerr << "ptjs: skipping '" << dir << "': a folder already walked (symlink loop?)\n";
    return;
  }
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) {
    std::cerr << "ptjs: cannot open folder '" << dir << "'\n";
    return;
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(handle)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(handle);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const std::string path = dir + (dir.back() == '/' ? "" : "/") + name;
    struct stat entry_st {};
    if (::stat(path.c_str(), &entry_st) != 0) continue;  // dangling link
    if (S_ISDIR(entry_st.st_mode)) walk(path, seen, out);
    else if (has_image_extension(name)) out.push_back(path);
  }
}

struct item {
  bool ready = false;
  sample value;
  std::string error;
  // Where its time went, for --report.
  double decode_ms = 0;
  double preprocess_ms = 0;
  clock_type::time_point preprocessed;
};

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The bounded window between the preprocessing workers and the forward thread.
class work_window {
 public:
  work_window(size_t total, size_t capacity) : total_(total), slots_(capacity) {}

  // Next index to preprocess, or total when there is none (done or aborted).
  size_t claim() {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [&] { return aborted_ || next_ >= total_ || next_ < base_ + slots_.size(); });
    if (aborted_ || next_ >= total_) return total_;
    return next_++;
  }

  void put(size_t index, item value) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      value.ready = true;
      slots_[index % slots_.size()] = std::move(value);
    }
    filled_.notify_all();
  }

  // Takes item `index` (the next in order), waiting for it; false when stopped by a signal.
  bool take(size_t index, item& out) {
    std::unique_lock<std::mutex> lock(mu_);
    auto& slot = slots_[index % slots_.size()];
    while (!slot.ready) {
      if (stop_requested()) return false;
      filled_.wait_for(lock, std::chrono::milliseconds(50));
    }
    out = std::move(slot);
    slot = item{};
    base_ = index + 1;
    lock.unlock();
    space_.notify_all();
    return true;
  }

  void abort() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      aborted_ = true;
    }
    space_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable space_;   // workers wait for room
  std::condition_variable filled_;  // the forward thread waits for its next item
  const size_t total_;
  std::vector<item> slots_;  // guarded by mu_
  size_t next_ = 0;          // guarded by mu_: next index to claim
  size_t base_ = 0;          // guarded by mu_: first index not yet taken
  bool aborted_ = false;     // guarded by mu_
};

struct job {
  const resolved_model& resolved;
  const postprocessor& post;
  std::vector<std::string> files;
  decode_options decode;
};

item preprocess_one(const job& j, const std::string& path) {
  item out;
  const auto start = clock_type::now();
  auto decoded = start;
  try {
    sample s;
    s.mat = decode_image(read_file_bytes(path), j.resolved.spec.mode, j.decode);
    decoded = clock_type::now();
    s = j.resolved.preprocess.run(std::move(s));
    if (!s.is_tensor)
      throw error(error_code::invalid_config, "the pipeline ends with an image, not a tensor: add ToTensor or PILToTensor");
    out.value = std::move(s);
  } catch (const error& e) {
    out.error = e.what();
  } catch (const cv::Exception& e) {
    out.error = std::string("preprocessing failed: ") + e.what();
  } catch (const std::exception& e) {
    out.error = std::string("preprocessing failed: ") + e.what();
  }
  out.preprocessed = clock_type::now();
  out.decode_ms = ms_between(start, decoded);
  out.preprocess_ms = decoded > start ? ms_between(decoded, out.preprocessed) : 0;
  return out;
}

// Per item of a chunk: its wait from preprocessed to the forward, and that forward (for --report).
struct forward_times {
  double queue_ms = 0;
  double forward_ms = 0;
};

// Runs forward for the good samples of a chunk, grouped by shape, and fills their records and
// times.
void score_chunk(const job& j, std::vector<item>& items, std::vector<record>& records, std::vector<forward_times>& times) {
  times.assign(items.size(), {});
  std::map<std::tuple<int, int, int>, std::vector<size_t>> groups;
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].error.empty()) {
      const auto& m = items[i].value.mat;
      groups[{m.rows, m.cols, m.type()}].push_back(i);
    }
  for (const auto& [shape, members] : groups) {
    std::vector<const sample*> batch;
    std::vector<record*> out;
    for (size_t i : members) {
      batch.push_back(&items[i].value);
      out.push_back(&records[i]);
    }
    const auto start = clock_type::now();
    try {
      j.post.apply(j.resolved.net->forward_images(batch), out);
      const double forward_ms = ms_between(start, clock_type::now());
      for (size_t i : members) times[i] = {ms_between(items[i].preprocessed, start), forward_ms};
    } catch (const std::exception& e) {
      for (record* r : out) {
        r->predictions.clear();
        r->outputs.clear();
        r->error = e.what();
      }
    }
  }
}

// Scores chunks on `lanes` threads, each forward on `threads` libtorch threads; the caller
// keeps the chunks in input order and waits for each in turn.
class lane_pool {
 public:
  struct chunk {
    std::vector<item> items;
    std::vector<record> records;
    std::vector<forward_times> times;
    bool done = false;
  };

  lane_pool(const job& j, int lanes, int threads) : j_(j) {
    for (int i = 0; i < lanes; ++i)
      threads_.emplace_back([this, threads] {
        set_torch_threads(threads);  // this thread's own OpenMP setting (oneDNN, BLAS)
        run();
      });
  }
  // Finishes the chunks already submitted, then stops the lanes.
  ~lane_pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  lane_pool(const lane_pool&) = delete;
  lane_pool& operator=(const lane_pool&) = delete;

  void submit(std::shared_ptr<chunk> c) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(c));
    }
    wake_.notify_one();
  }
  void wait(const chunk& c) {
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [&] { return c.done; });
  }

 private:
  void run() {
    for (;;) {
      std::shared_ptr<chunk> c;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;
        c = std::move(queue_.front());
        queue_.pop_front();
      }
      score_chunk(j_, c->items, c->records, c->times);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        c->done = true;
      }
      finished_.notify_all();
    }
  }

  const job& j_;
  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  std::deque<std::shared_ptr<chunk>> queue_;
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

// Adds a written chunk's inputs to the --report trace; `written_s`: when, since scoring began.
void trace_chunk(const lane_pool::chunk& c, double written_s, run_trace& trace) {
  for (size_t i = 0; i < c.records.size(); ++i) {
    const record& r = c.records[i];
    input_timing t;
    t.file = r.file;
    t.decode_ms = c.items[i].decode_ms;
    t.preprocess_ms = c.items[i].preprocess_ms;
    if (i < c.times.size()) {
      t.queue_ms = c.times[i].queue_ms;
      t.forward_ms = c.times[i].forward_ms;
    }
    t.written_s = written_s;
    t.error = r.error;
    t.has_score = !r.predictions.empty();
    if (t.has_score) t.top1_score = r.predictions[0].score;
    trace.inputs.push_back(std::move(t));
  }
}

int usage_error(const std::string& message) {
  std::cerr << "ptjs run: " << message << "\n";
  return exit_usage;
}

}  // namespace

std::atomic<bool>& stop_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

std::vector<std::string> list_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const auto& input : inputs) {
    if (input == "-") {
      std::string line;
      while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) out.push_back(line);
      }
      continue;
    }
    struct stat st {};
    if (::stat(input.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      std::set<std::pair<dev_t, ino_t>> seen;
      std::vector<std::string> found;
      walk(input, seen, found);
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back(input);
    }
  }
  return out;
}

std::vector<std::string> completed_files(const std::string& output, const std::string& format) {
  std::ifstream in(output, std::ios::binary);
  if (!in) return {};
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  const auto last_newline = text.find_last_of('\n');
  const size_t keep = last_newline == std::string::npos ? 0 : last_newline + 1;
  if (keep < text.size()) {
    if (::truncate(output.c_str(), static_cast<off_t>(keep)) != 0)
      throw error(error_code::invalid_config, "cannot cut the partial last line of '" + output + "'");
    text.resize(keep);
  }
  std::vector<std::string> done;
  if (format == "csv") {
    const auto rows = parse_csv(text);
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i == 0 && !rows[i].empty() && rows[i][0] == "file") continue;  // header
      if (!rows[i].empty()) done.push_back(rows[i][0]);
    }
  } else {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      const auto json = nlohmann::json::parse(line, nullptr, false);
      if (json.is_object() && json.contains("file") && json["file"].is_string())
        done.push_back(json["file"].get<std::string>());
    }
  }
  return done;
}

int run_batch(const run_options& o) {
  if (o.batch_size < 1) return usage_error("--batch-size must be >= 1, got " + std::to_string(o.batch_size));
  if (o.format != "jsonl" && o.format != "csv") return usage_error("--format must be jsonl or csv, got '" + o.format + "'");
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count)
    return usage_error("--shard I/N needs 0 <= I < N, got " + std::to_string(o.shard_index) + "/" + std::to_string(o.shard_count));
  const bool to_stdout = o.output.empty() || o.output == "-";  // "-": stdout, as --input - is stdin
  if (o.resume && to_stdout) return usage_error("--resume needs --output FILE");
  if (o.inputs.empty()) return usage_error("no --input given");

  cv::setNumThreads(0);  // our workers are the parallelism; OpenCV's own pool would oversubscribe

  resolved_model resolved;
  std::unique_ptr<postprocessor> post;
  std::vector<std::string> files;
  int fd = STDOUT_FILENO;
  bool write_header = true;
  try {
    resolve_options ro{o.model, o.pipeline, o.device, !o.no_optimize};
    resolved = resolve_model(ro, builtin_registry(), o.quiet ? nullptr : &std::cerr);
    if (o.draft) resolved.spec.draft = true;
    if (resolved.spec.input_type != "image")
      return usage_error(o.model + ": ptjs run scores image files; this model takes tensors (use ptjs serve's /v2 infer)");
    auto steps = resolved.spec.postprocess;
    if (o.topk > 0) {
      bool found = false;
      for (auto& step : steps)
        if (step.name == "TopK") step.k = o.topk, found = true;
      if (!found) {
        steps.erase(std::remove_if(steps.begin(), steps.end(), [](const postprocess_step& s) {
                      return s.name == "Argmax" || s.name == "Raw";
                    }), steps.end());
        steps.push_back({"TopK", 1, o.topk});
      }
    }
    auto labels = o.labels.empty() ? resolved.spec.labels : load_labels(o.labels);
    post = std::make_unique<postprocessor>(steps, labels);
    if (post->raw() && o.format == "csv")
      return usage_error("the postprocess ends in Raw, which CSV cannot hold: use --format jsonl or --topk K");

    const auto all = list_inputs(o.inputs);
    std::set<std::string> done;
    if (o.resume)
      for (const auto& f : completed_files(o.output, o.format)) done.insert(json_quote(f));
    for (size_t i = 0; i < all.size(); ++i) {
      if (static_cast<int>(i % static_cast<size_t>(o.shard_count)) != o.shard_index) continue;
      if (o.resume && done.count(json_quote(all[i]))) continue;
      files.push_back(all[i]);
    }
    if (!to_stdout) {
      struct stat st {};
      const bool had_content = o.resume && ::stat(o.output.c_str(), &st) == 0 && st.st_size > 0;
      fd = ::open(o.output.c_str(), O_WRONLY | O_CREAT | (o.resume ? O_APPEND : O_TRUNC), 0644);
      if (fd < 0) return usage_error("cannot open --output '" + o.output + "' for writing");
      write_header = !had_content;
    }
  } catch (const error& e) {
    return usage_error(e.what());
  }

  record_writer writer(fd, o.format == "csv" ? output_format::csv : output_format::jsonl, write_header);
  const job j{resolved, *post, files, decode_options_for(resolved.spec, resolved.preprocess)};
  const size_t total = files.size();
  const int workers = o.workers > 0 ? o.workers : default_preprocess_threads(resolved.spec.device);
  work_window window(total, static_cast<size_t>(o.batch_size) * 2 + static_cast<size_t>(workers) * 2);
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w)
    pool.emplace_back([&] {
      for (size_t i = window.claim(); i < total; i = window.claim()) window.put(i, preprocess_one(j, files[i]));
    });

  // How the forwards run (model.h: lanes_for): on CPU several batches at once, one libtorch
  // thread each, so the same command still answers with the same bytes; on CUDA one lane. The
  // first chunk runs alone on this thread: it decides how the model runs (forward_images).
  const int lanes = is_cuda(resolved.spec.device) ? 1 : lanes_for(o.lanes, o.threads);
  const int forward_threads = threads_per_forward(lanes, o.threads);
  set_torch_threads(forward_threads);

  const bool show_progress = !o.quiet && (o.progress == 1 || (o.progress == -1 && ::isatty(STDERR_FILENO)));
  progress_bar bar(total, show_progress);
  run_trace trace;  // for --report
  const auto scoring_started = clock_type::now();
  size_t written = 0, failed = 0;
  bool interrupted = false, stopped_early = false, assembled_all = false;
  std::string output_error;
  size_t next = 0;
  // The next chunk: up to --batch-size good samples in input order, with the failed ones
  // between them (their records are errors already).
  const auto assemble = [&](lane_pool::chunk& c) {
    size_t good = 0;
    while (next < total && good < static_cast<size_t>(o.batch_size)) {
      item it;
      if (!window.take(next, it)) {
        interrupted = true;
        break;
      }
      c.records.emplace_back();
      c.records.back().file = files[next++];
      if (!it.error.empty()) {
        c.records.back().error = it.error;
        c.items.push_back(std::move(it));
        if (o.fail_fast) {
          stopped_early = true;
          break;
        }
        continue;
      }
      ++good;
      c.items.push_back(std::move(it));
    }
    if (next >= total || interrupted || stopped_early) assembled_all = true;
  };
  {
    lane_pool scorer(j, lanes, forward_threads);
    std::deque<std::shared_ptr<lane_pool::chunk>> pending;  // in input order, at most lanes + 1
    bool first = true;
    for (;;) {
      while (!assembled_all && pending.size() <= static_cast<size_t>(lanes)) {
        auto c = std::make_shared<lane_pool::chunk>();
        assemble(*c);
        if (c->records.empty()) break;
        if (first) {  // alone, on this thread, until a forward has run
          score_chunk(j, c->items, c->records, c->times);
          c->done = true;
          first = std::none_of(c->items.begin(), c->items.end(), [](const item& it) { return it.error.empty(); });
        } else {
          scorer.submit(c);
        }
        pending.push_back(std::move(c));
      }
      if (pending.empty()) break;
      scorer.wait(*pending.front());
      const auto& records = pending.front()->records;
      size_t chunk_failed = 0;
      for (const auto& r : records) chunk_failed += r.failed() ? 1 : 0;
      try {
        writer.write(records);
      } catch (const error& e) {
        // The reader went away (e.g. `| head`) or the disk is full: stop cleanly, say why.
        output_error = e.what();
        break;
      }
      failed += chunk_failed;
      written += records.size();
      if (!o.report.empty()) trace_chunk(*pending.front(), ms_between(scoring_started, clock_type::now()) / 1000, trace);
      pending.pop_front();
      bar.update(written, failed);
      if (o.fail_fast && failed > 0) break;  // later chunks (already scored or not) are dropped
      if (stop_requested()) {
        interrupted = true;
        assembled_all = true;  // what is pending is written, nothing more is taken
      }
    }
  }  // the lanes finish what they hold
  window.abort();
  for (auto& t : pool) t.join();
  bar.finish(written, failed);
  if (fd != STDOUT_FILENO) ::close(fd);
  if (!o.quiet) {
    std::ostringstream line;
    line << "ptjs: " << written << " of " << total << " inputs scored";
    if (failed) line << ", " << failed << " failed";
    const int threads = torch_threads();
    line << " in " << bar.elapsed_text() << " on " << lanes << (lanes == 1 ? " lane" : " lanes") << " x " << threads
         << (threads == 1 ? " thread" : " threads") << "; model run " << resolved.net->execution_plan();
    log_line(line.str());
  }
  if (!o.report.empty()) {
    trace.model = o.model;
    trace.seconds = ms_between(scoring_started, clock_type::now()) / 1000;
    trace.lanes = lanes;
    trace.batch_size = o.batch_size;
    trace.workers = workers;
    try {
      write_report(o.report, run_report(trace, "ptjs run: " + o.model));
    } catch (const error& e) {
      std::cerr << "ptjs run: " << e.what() << "\n";
      return exit_usage;
    }
  }
  if (!output_error.empty()) {
    std::cerr << "ptjs run: " << output_error << "\n";
    return exit_some_failed;
  }
  if (interrupted) return exit_interrupted;
  return failed > 0 ? exit_some_failed : exit_ok;
}

}  // namespace ptjs
