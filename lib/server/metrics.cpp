#include "metrics.h"

#include <charconv>

namespace ptjs {
namespace {

const std::vector<double> latency_bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,    10};
const std::vector<double> batch_bounds = {1, 2, 4, 8, 16, 32, 64, 128, 256};

std::string number(double v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

// Label values escape backslash, double quote and newline.
std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void header(std::string& out, const std::string& name, const char* type, const char* help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
    out += name + "_bucket{" + labels + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels.substr(0, labels.size() - 1) + "}";
  out += name + "_sum" + braces + " " + number(sum_) + "\n";
  out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

metrics::model_metrics::model_metrics()
    : queue(latency_bounds), preprocess(latency_bounds), inference(latency_bounds), total(latency_bounds),
      batch_size(batch_bounds) {}

metrics::model_metrics& metrics::of(const std::string& model) { return models_[model]; }

void metrics::count_request(const std::string& model, const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{model, endpoint, status}];
}

void metrics::observe(const std::string& model, stage s, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& m = of(model);
  switch (s) {
    case stage::queue: m.queue.observe(seconds); break;
    case stage::preprocess: m.preprocess.observe(seconds); break;
    case stage::inference: m.inference.observe(seconds); break;
    case stage::total: m.total.observe(seconds); break;
  }
}

void metrics::observe_batch(const std::string& model, int rows) {
  std::lock_guard<std::mutex> lock(mu_);
  of(model).batch_size.observe(rows);
}

std::string metrics::render(const std::vector<model_state>& models) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  header(out, "ptjs_requests_total", "counter", "HTTP requests answered, by model, endpoint and status code.");
  for (const auto& [key, count] : requests_) {
    const auto& [model, endpoint, status] = key;
    out += "ptjs_requests_total{model=\"" + label_value(model) + "\",endpoint=\"" + label_value(endpoint) +
           "\",code=\"" + std::to_string(status) + "\"} " + std::to_string(count) + "\n";
  }
  const struct {
    const char* name;
    const char* help;
    histogram model_metrics::*member;
  } histograms[] = {
      {"ptjs_request_duration_seconds", "Time from request to response, per inference request.", &model_metrics::total},
      {"ptjs_queue_duration_seconds", "Time a request waited for its forward.", &model_metrics::queue},
      {"ptjs_preprocess_duration_seconds", "Decoding and preprocessing time per image.", &model_metrics::preprocess},
      {"ptjs_inference_duration_seconds", "Duration of each forward (one per batch).", &model_metrics::inference},
      {"ptjs_batch_size", "Rows in each forward.", &model_metrics::batch_size},
  };
  for (const auto& h : histograms) {
    header(out, h.name, "histogram", h.help);
    for (const auto& [model, m] : models_) (m.*h.member).render(out, h.name, "model=\"" + label_value(model) + "\",");
  }
  header(out, "ptjs_queue_depth", "gauge", "Requests waiting for a forward.");
  for (const auto& m : models)
    out += "ptjs_queue_depth{model=\"" + label_value(m.model) + "\"} " + std::to_string(m.queue_depth) + "\n";
  header(out, "ptjs_model_ready", "gauge", "1 when the model is loaded and warmed up.");
  for (const auto& m : models)
    out += "ptjs_model_ready{model=\"" + label_value(m.model) + "\"} " + (m.ready ? "1" : "0") + "\n";
  header(out, "ptjs_in_flight_requests", "gauge", "Requests being handled now.");
  out += "ptjs_in_flight_requests " + std::to_string(in_flight.load()) + "\n";
  return out;
}

}  // namespace ptjs
