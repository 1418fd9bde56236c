#include <malloc.h>

#include <algorithm>
#include <iostream>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "error.h"
#include "server.h"

namespace ptjs {

void setup_serve(CLI::App& app, int& exit_code) {
  // Flags land here first; the callback lays the given ones over --config, so flags win.
  auto flags = std::make_shared<server_options>();
  auto models = std::make_shared<std::vector<std::string>>();
  auto config = std::make_shared<std::string>();
  auto device = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("serve", "Serve models over HTTP (KServe v2 and TorchServe-compatible endpoints)");
  cmd->add_option("--model,-m", *models, "[NAME=]M: a TorchScript .pt, AOTInductor package .pt2 or model spec .yaml; repeat for several models");
  cmd->add_option("--config", *config, "server.yaml with these settings and a models: list (flags override it)");
  auto* host = cmd->add_option("--host", flags->host, "Address to bind (default 127.0.0.1: this machine only)");
  auto* port = cmd->add_option("--port,-p", flags->port, "Port (default 8080; 0 picks a free one)")->check(CLI::Range(0, 65535));
  auto* batch = cmd->add_option("--max-batch-size", flags->max_batch_size, "Rows per forward, for every model (default: each spec's batching)")
                    ->check(CLI::Range(1, 4096));
  auto* delay = cmd->add_option("--max-delay-ms", flags->max_delay_ms, "How long a request waits for others to batch with (default: each spec's)")
                    ->check(CLI::Range(0, 60000));
  auto* queue = cmd->add_option("--queue-size", flags->queue_size, "Requests waiting per model before 503 (default 256)")
                    ->check(CLI::Range(1, 1 << 20));
  auto* timeout = cmd->add_option("--timeout-ms", flags->timeout_ms, "From request to answer, else 504 (default 30000)")
                      ->check(CLI::PositiveNumber);
  cmd->add_option("--api-key", flags->api_key, "Require Authorization: Bearer KEY (health endpoints stay open)")
                  ->envname("PTJS_API_KEY");
  auto* cors = cmd->add_option("--cors", flags->cors_origin, "Allow browser calls from ORIGIN (or *)");
  auto* http_threads = cmd->add_option("--http-threads", flags->http_threads, "Connections served at once (default: from the batch sizes)")
                           ->check(CLI::Range(1, 4096));
  auto* lanes = cmd->add_option("--lanes", flags->lanes, "Forwards at once per model (default: one per core on CPU, each on one thread, unless --threads)")
                    ->check(CLI::NonNegativeNumber);
  auto* threads = cmd->add_option("--threads", flags->torch_threads, "libtorch threads per forward (default: 1 per lane; with one lane, every core)")
                      ->check(CLI::NonNegativeNumber);
  auto* device_flag = cmd->add_option("--device", *device, "cpu, cuda or cuda:N, for every model (default: each model's own, else cpu)");
  // A named const string: with a string literal, C++20's parenthesised aggregate initialisation
  // makes CLI11 2.3's add_flag(name, T& count) overload match too, and the call is ambiguous.
  const std::string no_optimize_help = "Run models as loaded, not frozen or channels-last (spec optimize: false)";
  auto* no_optimize = cmd->add_flag("--no-optimize", no_optimize_help);
  const std::string no_ui_help = "Do not serve the page to try the models at GET / (config ui: false)";
  auto* no_ui = cmd->add_flag("--no-ui", no_ui_help);
  auto* body = cmd->add_option("--max-body-bytes", flags->max_body_bytes, "Largest request body, else 413 (default 64 MiB)")
                   ->check(CLI::PositiveNumber);
  auto* pixels = cmd->add_option("--max-image-pixels", flags->max_image_pixels, "Largest image (width x height), else 413 (default 40000000)")
                     ->check(CLI::PositiveNumber);
  auto* decode_bytes = cmd->add_option("--max-decode-bytes", flags->max_decode_bytes,
                                       "Memory for images being decoded at once (about 6 bytes a pixel); others wait (default 1 GiB; 0: no limit)");
  auto* read_timeout = cmd->add_option("--read-timeout-ms", flags->read_timeout_ms, "Drop a client that sends nothing for this long (default 10000)")
                           ->check(CLI::PositiveNumber);
  auto* request_timeout = cmd->add_option("--request-timeout-ms", flags->request_timeout_ms,
                                          "A whole request (headers and body) must arrive within this, else 408 (default 60000; 0: no limit)")
                              ->check(CLI::NonNegativeNumber);
  auto* drain_timeout = cmd->add_option("--drain-timeout-s", flags->drain_timeout_s,
                                        "After SIGTERM, wait this long at most for requests in flight, then exit 1 (default 30)")
                            ->check(CLI::Range(1, 86400));
  auto* keep_alive = cmd->add_option("--keep-alive-s", flags->keep_alive_s, "Close idle keep-alive connections after this (default 5)")
                         ->check(CLI::Range(1, 3600));
  auto* cert = cmd->add_option("--tls-cert", flags->tls_cert, "PEM certificate: serve HTTPS (with --tls-key)");
  auto* tls_key = cmd->add_option("--tls-key", flags->tls_key, "PEM private key for --tls-cert");

  cmd->callback([=, &exit_code] {
    server_options options;
    try {
      if (!config->empty()) load_server_config(*config, options);
    } catch (const error& e) {
      std::cerr << "ptjs serve: " << e.what() << "\n";
      exit_code = 2;
      return;
    }
    if (host->count()) options.host = flags->host;
    if (port->count()) options.port = flags->port;
    if (batch->count()) options.max_batch_size = flags->max_batch_size;
    if (delay->count()) options.max_delay_ms = flags->max_delay_ms;
    if (queue->count()) options.queue_size = flags->queue_size;
    if (timeout->count()) options.timeout_ms = flags->timeout_ms;
    if (!flags->api_key.empty()) options.api_key = flags->api_key;  // the flag or PTJS_API_KEY
    if (cors->count()) options.cors_origin = flags->cors_origin;
    if (http_threads->count()) options.http_threads = flags->http_threads;
    if (threads->count()) options.torch_threads = flags->torch_threads;
    if (lanes->count()) options.lanes = flags->lanes;
    if (no_optimize->count()) options.optimize = false;
    if (no_ui->count()) options.ui = false;
    if (body->count()) options.max_body_bytes = flags->max_body_bytes;
    if (pixels->count()) options.max_image_pixels = flags->max_image_pixels;
    if (decode_bytes->count()) options.max_decode_bytes = flags->max_decode_bytes;
    if (read_timeout->count()) options.read_timeout_ms = flags->read_timeout_ms;
    if (request_timeout->count()) options.request_timeout_ms = flags->request_timeout_ms;
    if (drain_timeout->count()) options.drain_timeout_s = flags->drain_timeout_s;
    if (keep_alive->count()) options.keep_alive_s = flags->keep_alive_s;
    if (cert->count()) options.tls_cert = flags->tls_cert;
    if (tls_key->count()) options.tls_key = flags->tls_key;
    for (const auto& m : *models) options.models.push_back(parse_model_argument(m));
    if (device_flag->count())
      for (auto& m : options.models) m.device = *device;
    options.version = PTJS_VERSION;
    // Few malloc arenas: glibc gives each busy thread its own, and with main's thresholds
    // (large buffers stay in the heap) every HTTP thread that once decoded a large image would
    // keep that much; shared arenas let --max-decode-bytes bound the resident memory too
    // (12 concurrent 12-megapixel PNGs with an 80 MB budget: +758 MB peak with per-thread
    // arenas, +127 MB with 2).
    mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
    exit_code = run_server(options);
  });
}

}  // namespace ptjs
