// What the server answers: the route table, its handlers, auth, CORS and error mapping.
// Torch-free; the transport (http_server) calls handle() for every request.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "error.h"
#include "http_server.h"
#include "memory_budget.h"
#include "metrics.h"
#include "openapi.h"
#include "served_model.h"
#include "server.h"
#include "server_timing.h"

namespace ptjs {

// The one mapping from ptjs error codes to HTTP statuses.
int http_status(error_code code);

// Replaces absolute file-system paths in a message with "<path>": messages from the engine
// name files, and clients must not learn the server's layout.
std::string scrub_paths(const std::string& message);

class service {
 public:
  service(const server_options& options, metrics& stats);

  // Answers one request; never throws. Thread-safe.
  http_response handle(http_request& request) noexcept;

  // The model registry, filled while the server already listens.
  void add_model(std::shared_ptr<served_model> model);
  void loading_finished();
  // From now on readiness answers 503 and responses close their connections.
  void begin_drain();

  std::vector<api_route> api_routes() const;
  // Headers every response carries (CORS), for the transport's own error answers too.
  std::vector<std::pair<std::string, std::string>> default_headers() const;

 private:
  using clock = std::chrono::steady_clock;
  struct route;
  struct call {  // one request on its way through a handler
    http_request& request;
    std::string model;                   // the {model} segment, when the route has one
    std::string asset;                   // the {asset} segment (the page's files)
    clock::time_point start;
    clock::time_point deadline;
    request_timing timing = {};          // inference requests: where the time went
  };
  static const std::vector<route>& route_table();

  bool ready() const;
  bool authorized(const http_request& request) const;
  std::shared_ptr<served_model> find_model(const std::string& name) const;
  http_response preflight() const;

  http_response health_live(call& c);
  http_response health_ready(call& c);
  http_response server_metadata(call& c);
  http_response model_metadata(call& c);
  http_response model_ready(call& c);
  http_response infer(call& c);
  http_response predictions(call& c);
  http_response ping(call& c);
  http_response metrics_text(call& c);
  http_response openapi(call& c);
  http_response model_config(call& c);
  http_response repository_index(call& c);
  http_response ui_page(call& c);
  http_response ui_file(call& c);

  // Reads the request's body (until then only its head has arrived), timing it.
  void read_body(call& c);
  // Decodes, preprocesses and queues one encoded image (timing both into c.timing).
  std::future<batch_result> submit_image(served_model& m, std::string_view encoded, call& c);
  // Waits for one queued input until the call's deadline (504 after), timing its queue and forward.
  batch_result wait(served_model& m, std::future<batch_result>& pending, call& c);

  const server_options options_;
  metrics& stats_;
  memory_budget decode_budget_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<served_model>> models_;  // guarded by mu_
  bool loading_ = true;                                          // guarded by mu_
  std::atomic<bool> draining_{false};
};

}  // namespace ptjs
