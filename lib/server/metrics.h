// Server metrics in the Prometheus text format (version 0.0.4). No dependencies.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace ptjs {

class histogram {
 public:
  explicit histogram(std::vector<double> bounds);
  void observe(double value);
  // `name_bucket{labels,le=".."}` lines, then _sum and _count; `labels` is `a="b",` or empty.
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // one per bound, plus +Inf; not cumulative
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Thread-safe: every method may be called from any thread.
class metrics {
 public:
  enum class stage { queue, preprocess, inference, total };

  // One answered request. `model` is empty for endpoints that name none.
  void count_request(const std::string& model, const std::string& endpoint, int status);
  void observe(const std::string& model, stage s, double seconds);
  // Rows of one forward.
  void observe_batch(const std::string& model, int rows);

  // Requests being handled now, and answered so far; maintained by the router.
  std::atomic<int> in_flight{0};
  std::atomic<uint64_t> answered{0};

  struct model_state {
    std::string model;
    size_t queue_depth = 0;
    bool ready = false;
  };
  // The whole exposition, with the per-model gauges read by the caller at scrape time.
  std::string render(const std::vector<model_state>& models) const;

 private:
  struct model_metrics {
    histogram queue, preprocess, inference, total, batch_size;
    model_metrics();
  };
  model_metrics& of(const std::string& model);  // caller holds mu_

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;  // guarded by mu_
  std::map<std::string, model_metrics> models_;                             // guarded by mu_
};

}  // namespace ptjs
