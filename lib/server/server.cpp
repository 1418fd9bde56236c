// Startup and shutdown of `ptjs serve`: listen at once, load and warm up models in the
// background (readiness follows), drain on SIGINT/SIGTERM.
#include "server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <malloc.h>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "error.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "model.h"
#include "resolve.h"
#include "routes.h"
#include "runner.h"
#include "served_model.h"
#include "v2_codec.h"

namespace ptjs {
namespace {

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= 128 && name != "." && name != ".." &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '_' || c == '-' || c == '.';
         });
}

// Whether `host` (what --host gave) only accepts connections from this machine.
bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// Forwards at once per model (model.h: lanes_for): image models on CPU get the lanes `ptjs run`
// gets. Measured with scripts/bench/serve_bench.sh (2 cores): mobilenet_v3_small at c=8 326
// req/s with 2 lanes against 250 with one; the tiny tensor model at c=16 13.7k req/s with one
// lane against 10.5k with 2 (its forwards are too short: more lanes only make smaller
// batches), so tensor models keep one lane unless --lanes says otherwise.
int lanes_for(const server_options& options) { return ptjs::lanes_for(options.lanes, options.torch_threads); }
int threads_per_forward(const server_options& options) {
  return ptjs::threads_per_forward(lanes_for(options), options.torch_threads);
}

// Connections are served one per thread while they live, and a request waiting for its batch
// holds its thread: leave room for every model's full batch plus other traffic.
int default_http_threads(const server_options& options) {
  int rows = 0;
  for (const auto& m : options.models)
    rows += m.max_batch_size > 0 ? m.max_batch_size : options.max_batch_size > 0 ? options.max_batch_size : 16;
  return std::clamp(2 * rows + 8, 16, 512);
}

std::unique_ptr<served_model> load_one(const served_model_options& m, const server_options& options,
                                       metrics& stats) {
  resolved_model resolved = resolve_model({m.path, m.pipeline, m.device, options.optimize}, builtin_registry(), &std::cerr);
  const std::string name = m.name.empty() ? resolved.spec.name : m.name;
  if (!valid_name(name))
    throw error(error_code::invalid_config, "model name '" + name + "' (from " + m.path +
                                                ") must be letters, digits, '_', '-' or '.'; name it with --model NAME=" + m.path);
  batcher_options batching;
  batching.max_batch_size = m.max_batch_size > 0 ? m.max_batch_size
                            : options.max_batch_size > 0 ? options.max_batch_size
                                                         : resolved.spec.max_batch_size;
  batching.max_delay_ms = m.max_delay_ms >= 0 ? m.max_delay_ms
                          : options.max_delay_ms >= 0 ? options.max_delay_ms
                                                      : resolved.spec.max_delay_ms;
  batching.queue_size = options.queue_size;
  const bool tensors = resolved.spec.input_type == "tensor";
  batching.lanes = is_cuda(resolved.spec.device) || (tensors && options.lanes == 0) ? 1 : lanes_for(options);
  batching.lane_threads = threads_per_forward(options);
  decode_options decode;
  decode.max_pixels = options.max_image_pixels;
  return std::make_unique<served_model>(name, std::move(resolved), batching, decode, stats);
}

// Memory freed after a burst of requests stays in the heap (main()'s malloc thresholds keep
// large buffers for speed under load); once the server has been idle for a second, give it
// back to the system. Called every few milliseconds from the main thread.
class idle_trim {
 public:
  explicit idle_trim(const metrics& stats) : stats_(stats) {}
  void tick() {
    const auto now = std::chrono::steady_clock::now();
    const uint64_t answered = stats_.answered.load();
    if (answered != seen_ || stats_.in_flight.load() > 0) {
      seen_ = answered;
      busy_at_ = now;
      trimmed_ = false;
    } else if (!trimmed_ && now - busy_at_ > std::chrono::seconds(1)) {
      malloc_trim(0);
      trimmed_ = true;
    }
  }

 private:
  const metrics& stats_;
  uint64_t seen_ = 0;
  std::chrono::steady_clock::time_point busy_at_ = std::chrono::steady_clock::now();
  bool trimmed_ = false;
};

}  // namespace

int run_server(const server_options& options) {
  if (options.models.empty()) {
    log_line("ptjs serve: no model given (--model [NAME=]PATH or models: in --config)");
    return 2;
  }
  set_torch_threads(threads_per_forward(options));
  metrics stats;
  service svc(options, stats);

  http_server_options transport;
  transport.host = options.host;
  transport.port = options.port;
  transport.threads = options.http_threads > 0 ? options.http_threads : default_http_threads(options);
  transport.max_body_bytes = options.max_body_bytes;
  transport.read_timeout_ms = options.read_timeout_ms;
  transport.write_timeout_ms = std::max(options.read_timeout_ms, 1000);
  transport.keep_alive_timeout_s = options.keep_alive_s;
  transport.request_timeout_ms = options.request_timeout_ms;
  transport.tls_cert = options.tls_cert;
  transport.tls_key = options.tls_key;
  transport.default_headers = svc.default_headers();

  std::unique_ptr<http_server> http;
  int port = 0;
  try {
    http = std::make_unique<http_server>(transport, [&svc](http_request& r) { return svc.handle(r); });
    port = http->bind();
  } catch (const error& e) {
    log_line(std::string("ptjs serve: ") + e.what());
    return 2;
  }
  log_line(std::string("ptjs serve: listening on ") + (http->tls() ? "https" : "http") + "://" +
           url_host(options.host) + ":" + std::to_string(port));
  // TorchServe turned token authorization on by default (0.11) for the same reason.
  if (!is_loopback(options.host) && options.api_key.empty())
    log_line("ptjs serve: warning: listening on " + options.host + " without an API key: anyone who can reach " +
             "this address can run the models and read their metadata and metrics; pass --api-key KEY " +
             "(or PTJS_API_KEY), or bind 127.0.0.1 behind a proxy that authenticates (README: Deployment)");

  std::atomic<bool> listener_done{false};
  std::thread listener([&] {
    http->serve();
    listener_done = true;
  });

  std::atomic<bool> load_failed{false};
  std::atomic<bool> loader_done{false};
  std::thread loader([&] {
    std::set<std::string> names;
    std::string list;
    for (const auto& m : options.models) {
      if (stop_requested()) break;
      try {
        std::shared_ptr<served_model> model = load_one(m, options, stats);
        if (!names.insert(model->name()).second)
          throw error(error_code::invalid_config, "two models are named '" + model->name() + "'; name them with --model NAME=PATH");
        std::ostringstream line;
        line << "ptjs serve: model '" << model->name() << "' ready: input" << (model->inputs().size() > 1 ? "s " : " ");
        for (const auto& in : model->inputs())
          line << (&in == &model->inputs().front() ? "'" : ", '") << in.name << "' " << in.datatype << " "
               << shape_text(in.shape);
        line << ", batches of up to " << model->batching().max_batch_size << " within "
             << model->batching().max_delay_ms << " ms, " << model->batching().lanes
             << (model->batching().lanes == 1 ? " lane" : " lanes") << "; runs " << model->net().execution_plan();
        log_line(line.str());
        list += (list.empty() ? "" : ", ") + model->name();
        svc.add_model(std::move(model));
      } catch (const std::exception& e) {
        log_line(std::string("ptjs serve: ") + e.what());
        load_failed = true;
        break;
      }
    }
    if (!load_failed && !stop_requested()) {
      svc.loading_finished();
      log_line("ptjs serve: ready (" + list + ")");
    }
    loader_done = true;
  });

  idle_trim trim(stats);
  while (!stop_requested() && !load_failed && !listener_done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (loader_done) trim.tick();
  }
  const bool listener_failed = listener_done && !stop_requested() && !load_failed;
  if (!load_failed && !listener_failed) log_line("ptjs serve: shutting down, finishing requests in flight");

  svc.begin_drain();
  http->stop();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(options.drain_timeout_s);
  while (!listener_done) {
    if (std::chrono::steady_clock::now() > give_up) {
      log_line("ptjs serve: requests still in flight after " + std::to_string(options.drain_timeout_s) +
               " s (--drain-timeout-s); exiting without them");
      std::_Exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  listener.join();
  loader.join();
  http.reset();
  if (load_failed) return 2;
  if (listener_failed) {
    log_line("ptjs serve: the listening socket failed");
    return 1;
  }
  log_line("ptjs serve: stopped");
  return 0;
}

}  // namespace ptjs
