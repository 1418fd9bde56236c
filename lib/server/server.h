// `ptjs serve`: options, the server.yaml reader, and the entry point. No libtorch, no httplib.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ptjs {

struct served_model_options {
  std::string name;      // empty: the spec's name, else the file name without extension
  std::string path;      // .pt or model spec .yaml
  std::string pipeline;  // optional pipeline YAML overriding the model's own
  std::string device;    // optional device override
  int max_batch_size = 0;  // 0: server option, else the spec's batching
  int max_delay_ms = -1;   // -1: server option, else the spec's batching
};

struct server_options {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (printed on stderr)
  std::vector<served_model_options> models;
  int max_batch_size = 0;   // 0: each spec's batching
  int max_delay_ms = -1;    // -1: each spec's batching
  size_t queue_size = 256;  // requests waiting per model before 503
  int timeout_ms = 30000;   // from request to answer, else 504
  std::string api_key;      // non-empty: Authorization: Bearer <key> needed (health stays open)
  std::string cors_origin;  // non-empty: CORS headers for this origin ("*" for any)
  int http_threads = 0;     // 0: enough for every model's batch plus headroom
  int torch_threads = 0;    // libtorch threads per forward; 0: 1 with several lanes, else every core
  int lanes = 0;            // forwards at once per model; 0: one per core on CPU unless torch_threads
  bool optimize = true;     // false (--no-optimize): every model runs as loaded, whatever its spec says
  bool ui = true;           // false (--no-ui): GET / does not serve the page to try the models
  size_t max_body_bytes = 64u << 20;
  uint64_t max_image_pixels = 40000000;
  uint64_t max_decode_bytes = 1ull << 30;  // images being decoded at once, estimated; 0: no limit
  int read_timeout_ms = 10000;
  int request_timeout_ms = 60000;  // whole request (headers + body), else 408; 0: no limit
  int keep_alive_s = 5;
  int drain_timeout_s = 30;  // after SIGTERM: longest wait for requests in flight, then exit 1
  std::string tls_cert;
  std::string tls_key;
  std::string version;  // reported by GET /v2
};

// Reads a server.yaml into `options` (see configs/serve/server.yaml); relative model paths
// resolve against the file's folder. Throws ptjs::error(invalid_config) "<file>:<line>:<col>: ...".
void load_server_config(const std::string& path, server_options& options);

// "NAME=PATH" or "PATH" (a '=' inside a path after a '/' is part of the path).
served_model_options parse_model_argument(const std::string& argument);

// Runs the server until SIGINT/SIGTERM (stop_requested()), then stops accepting, answers the
// requests in flight and returns 0. Returns 2 when a model cannot be loaded or the address
// cannot be bound (the reason on stderr).
int run_server(const server_options& options);

}  // namespace ptjs
