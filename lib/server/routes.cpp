#include "routes.h"

#include <algorithm>
#include <cctype>
#include <iostream>

#include <nlohmann/json.hpp>

#include "log.h"
#include "sinks.h"
#include "ui_assets.h"
#include "v2_codec.h"

namespace ptjs {
namespace {

// Peak memory of decoding one image, per pixel: OpenCV's decoded BGR(A) buffer and the RGB
// copy ptjs converts it to (measured: 16 concurrent 36-megapixel PNGs peaked at 5.5 bytes a
// pixel over the idle server).
constexpr uint64_t kDecodeBytesPerPixel = 6;

using json = nlohmann::ordered_json;

http_response json_response(int status, std::string body) { return {status, "application/json", std::move(body), {}}; }

http_response error_response(int status, const std::string& message) {
  return json_response(status, "{\"error\":" + json_quote(message) + "}");
}

// What every file of the page is sent with: nothing it loads may come from elsewhere, and
// nothing may frame it.
http_response ui_response(const ui_asset& asset) {
  return {200,
          std::string(asset.content_type),
          std::string(asset.body),
          {{"Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
           {"X-Content-Type-Options", "nosniff"},
           {"Referrer-Policy", "no-referrer"},
           {"Cache-Control", "no-cache"}}};
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t begin = 1;
  while (begin <= path.size()) {
    const size_t end = std::min(path.find('/', begin), path.size());
    out.push_back(path.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

// The segments a route's template names.
struct path_params {
  std::string model, version, asset;
};

// Matches a path against a route's template; "{model}", "{version}" and "{asset}" take one
// non-empty segment each.
bool match_path(const std::string& pattern, const std::string& path, path_params& params) {
  if (path.empty() || path[0] != '/') return false;
  const auto want = split_path(pattern);
  const auto got = split_path(path);
  if (want.size() != got.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "{model}" || want[i] == "{version}" || want[i] == "{asset}") {
      if (got[i].empty()) return false;
      (want[i] == "{model}" ? params.model : want[i] == "{version}" ? params.version : params.asset) = got[i];
    } else if (want[i] != got[i]) {
      return false;
    }
  }
  return true;
}

bool starts_with_ci(const std::string& text, const std::string& prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

json meta_json(const std::vector<tensor_meta>& tensors) {
  json out = json::array();
  for (const auto& t : tensors) out.push_back({{"name", t.name}, {"datatype", t.datatype}, {"shape", t.shape}});
  return out;
}

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Joins per-image outputs ([1, ...] each) into batched outputs ([N, ...]).
std::vector<host_tensor> concat_rows(std::vector<std::vector<host_tensor>> parts) {
  std::vector<host_tensor> out = std::move(parts.front());
  for (size_t p = 1; p < parts.size(); ++p) {
    for (size_t i = 0; i < out.size(); ++i) {
      const host_tensor& next = parts[p].at(i);
      if (next.datatype != out[i].datatype || next.shape.size() != out[i].shape.size() ||
          !std::equal(next.shape.begin() + 1, next.shape.end(), out[i].shape.begin() + 1))
        throw error(error_code::invalid_input, "the images give outputs of different shapes (" +
                                                   shape_text(out[i].shape) + " and " + shape_text(next.shape) +
                                                   "); send them in separate requests");
      out[i].shape[0] += next.shape[0];
      out[i].data.insert(out[i].data.end(), next.data.begin(), next.data.end());
    }
  }
  return out;
}

// A record as ptjs run writes it, without the "file" member a server answer has no use for.
std::string record_body(const record& r) {
  std::string text = record_to_json(r);
  const std::string prefix = "{\"file\":\"\",";
  if (text.compare(0, prefix.size(), prefix) == 0) text = "{" + text.substr(prefix.size());
  return text;
}

}  // namespace

int http_status(error_code code) {
  switch (code) {
    case error_code::invalid_input: return 400;
    case error_code::not_found: return 404;
    case error_code::too_large: return 413;
    case error_code::unavailable: return 503;
    case error_code::timeout: return 504;
    case error_code::invalid_config:  // the server's own configuration, not the client's fault
    case error_code::internal: return 500;
  }
  return 500;
}

std::string scrub_paths(const std::string& message) {
  static const std::string starts = " \t\n'\"(=[,:";
  static const std::string ends = " \t\n'\")],;:";
  std::string out;
  for (size_t i = 0; i < message.size();) {
    const bool at_token = message[i] == '/' && (i == 0 || starts.find(message[i - 1]) != std::string::npos);
    if (at_token) {
      size_t end = i;
      while (end < message.size() && ends.find(message[end]) == std::string::npos) ++end;
      if (message.find('/', i + 1) < end) {
        out += "<path>";
        i = end;
        continue;
      }
    }
    out += message[i++];
  }
  return out;
}

struct service::route {
  const char* method;
  const char* path;
  const char* endpoint;
  const char* summary;
  bool open;  // no API key needed: health checks must work for load balancers without secrets
  http_response (service::*handle)(call&);
};

const std::vector<service::route>& service::route_table() {
  static const std::vector<route> table = {
      {"GET", "/v2/health/live", "health_live", "KServe v2 liveness", true, &service::health_live},
      {"GET", "/v2/health/ready", "health_ready", "KServe v2 readiness: every model loaded and warmed up", true,
       &service::health_ready},
      {"GET", "/v2", "server_metadata", "Server metadata", false, &service::server_metadata},
      {"GET", "/v2/models/{model}", "model_metadata", "Model metadata: inputs, outputs, platform", false,
       &service::model_metadata},
      {"GET", "/v2/models/{model}/ready", "model_ready", "Model readiness", false, &service::model_ready},
      {"POST", "/v2/models/{model}/infer", "infer", "KServe v2 inference (JSON or binary tensors, BYTES images)",
       false, &service::infer},
      // The v2 protocol's versioned paths (Triton's clients add /versions/1 when given a
      // version); each model has the one version its metadata lists, "1".
      {"GET", "/v2/models/{model}/versions/{version}", "model_metadata", "Model metadata (versioned path)", false,
       &service::model_metadata},
      {"GET", "/v2/models/{model}/versions/{version}/ready", "model_ready", "Model readiness (versioned path)",
       false, &service::model_ready},
      {"POST", "/v2/models/{model}/versions/{version}/infer", "infer", "KServe v2 inference (versioned path)", false,
       &service::infer},
      // TorchServe takes PUT as well (its examples use `curl -T image.jpg`) and a version segment.
      {"POST", "/predictions/{model}", "predictions", "TorchServe-compatible prediction on images", false,
       &service::predictions},
      {"PUT", "/predictions/{model}", "predictions", "TorchServe-compatible prediction on images (PUT)", false,
       &service::predictions},
      {"POST", "/predictions/{model}/{version}", "predictions", "TorchServe-compatible prediction (versioned path)",
       false, &service::predictions},
      {"PUT", "/predictions/{model}/{version}", "predictions",
       "TorchServe-compatible prediction (versioned path, PUT)", false, &service::predictions},
      {"GET", "/ping", "ping", "TorchServe-compatible health", true, &service::ping},
      {"GET", "/metrics", "metrics", "Prometheus metrics", false, &service::metrics_text},
      {"GET", "/openapi.json", "openapi", "This OpenAPI document", false, &service::openapi},
      // Triton's model configuration and repository extensions, which the page reads.
      {"GET", "/v2/models/{model}/config", "model_config",
       "Model configuration: pipeline (YAML), postprocessing, labels, batching", false, &service::model_config},
      {"POST", "/v2/repository/index", "repository_index", "Every model with its state (READY, LOADING, UNAVAILABLE)",
       false, &service::repository_index},
      // The page is static and holds nothing secret: what it shows comes from the calls above,
      // which ask for the key.
      {"GET", "/", "ui", "A page to try the models in a browser (off with --no-ui)", true, &service::ui_page},
      {"GET", "/ui/{asset}", "ui", "The page's scripts, styles and sample images", true, &service::ui_file},
  };
  return table;
}

service::service(const server_options& options, metrics& stats)
    : options_(options), stats_(stats), decode_budget_(options.max_decode_bytes) {}

std::vector<api_route> service::api_routes() const {
  std::vector<api_route> out;
  for (const auto& r : route_table()) out.push_back({r.method, r.path, r.endpoint, r.summary, r.open});
  return out;
}

std::vector<std::pair<std::string, std::string>> service::default_headers() const {
  if (options_.cors_origin.empty()) return {};
  std::vector<std::pair<std::string, std::string>> out = {
      {"Access-Control-Allow-Origin", options_.cors_origin},
      {"Access-Control-Expose-Headers", "Inference-Header-Content-Length, Server-Timing"}};
  if (options_.cors_origin != "*") out.emplace_back("Vary", "Origin");
  return out;
}

void service::add_model(std::shared_ptr<served_model> model) {
  std::lock_guard<std::mutex> lock(mu_);
  models_[model->name()] = std::move(model);
}

void service::loading_finished() {
  std::lock_guard<std::mutex> lock(mu_);
  loading_ = false;
}

void service::begin_drain() { draining_ = true; }

bool service::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !loading_ && !draining_;
}

bool service::authorized(const http_request& request) const {
  if (options_.api_key.empty()) return true;
  const std::string header = request.header("Authorization");
  const std::string scheme = "Bearer ";
  if (!starts_with_ci(header, scheme)) return false;
  // Constant time in the key: how much of a guess matched must not show in the timing.
  const std::string_view given(header.data() + scheme.size(), header.size() - scheme.size());
  const std::string& key = options_.api_key;
  size_t diff = given.size() ^ key.size();
  for (size_t i = 0; i < key.size(); ++i)
    diff |= static_cast<unsigned char>(key[i]) ^ static_cast<unsigned char>(i < given.size() ? given[i] : 0);
  return diff == 0;
}

std::shared_ptr<served_model> service::find_model(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = models_.find(name);
  if (it != models_.end()) return it->second;
  if (loading_) throw error(error_code::unavailable, "model '" + name + "' is not loaded yet: the server is starting");
  std::string names;
  for (const auto& [n, m] : models_) names += (names.empty() ? "" : ", ") + n;
  throw error(error_code::not_found, "no model named '" + name + "' (models: " + names + ")");
}

http_response service::preflight() const {
  http_response out{204, "", "", {{"Allow", "GET, POST, PUT, OPTIONS"}}};
  if (!options_.cors_origin.empty()) {
    out.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS");
    out.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, Inference-Header-Content-Length");
    out.headers.emplace_back("Access-Control-Max-Age", "600");
  }
  return out;
}

http_response service::handle(http_request& request) noexcept {
  const auto start = clock::now();
  ++stats_.in_flight;
  http_response response;
  std::string endpoint = "unknown";
  std::string model_label;
  try {
    const route* found = nullptr;
    path_params params;
    std::string allowed;
    for (const auto& r : route_table()) {
      path_params p;
      if (!match_path(r.path, request.path, p)) continue;
      if (request.method == r.method) {
        found = &r;
        params = std::move(p);
        break;
      }
      allowed += (allowed.empty() ? "" : ", ") + std::string(r.method);
    }
    if (request.method == "OPTIONS") {
      endpoint = "preflight";
      response = preflight();
    } else if (found == nullptr && !allowed.empty()) {
      response = error_response(405, "method " + request.method + " is not allowed here (allowed: " + allowed + ")");
      response.headers.emplace_back("Allow", allowed + ", OPTIONS");
    } else if (found == nullptr) {
      response = error_response(404, "no such endpoint; see GET /openapi.json");
    } else if (std::string(found->endpoint) == "ui" && !options_.ui) {
      response = error_response(404, "the page to try the models is off (--no-ui); the API is at /v2");
    } else {
      endpoint = found->endpoint;
      if (!found->open && !authorized(request)) {
        response = error_response(401, "missing or wrong API key: send the header Authorization: Bearer <key>");
        response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"ptjs\"");
      } else if (!params.version.empty() && params.version != model_version && find_model(params.model) != nullptr) {
        response = error_response(404, "model '" + params.model + "' has no version '" + params.version +
                                           "' (versions: " + model_version + ")");
      } else {
        call c{request, params.model, params.asset, start, start + std::chrono::milliseconds(options_.timeout_ms)};
        try {
          response = (this->*(found->handle))(c);
        } catch (const error& e) {
          response = error_response(http_status(e.code()), scrub_paths(e.what()));
        } catch (const std::exception& e) {
          response = error_response(500, "internal error: " + scrub_paths(e.what()));
        }
        if (endpoint == "infer" || endpoint == "predictions") {
          c.timing.total_ms = seconds_between(start, clock::now()) * 1000.0;
          response.headers.emplace_back("Server-Timing", server_timing_header(c.timing));
        }
        // Label metrics with loaded model names only, so random URLs cannot grow the series.
        std::lock_guard<std::mutex> lock(mu_);
        if (!params.model.empty() && models_.count(params.model)) model_label = params.model;
      }
    }
  } catch (...) {
    response = error_response(500, "internal error");
  }
  // 503/504 are load, not faults: logging each would flood stderr when overloaded.
  if (response.status == 500)
    log_line("ptjs serve: " + request.method + " " + request.path + " -> " + std::to_string(response.status) + " " +
             response.body);
  if (draining_) response.headers.emplace_back("Connection", "close");
  try {
    stats_.count_request(model_label, endpoint, response.status);
    if (!model_label.empty() && (endpoint == "infer" || endpoint == "predictions"))
      stats_.observe(model_label, metrics::stage::total, seconds_between(start, clock::now()));
  } catch (...) {
  }
  ++stats_.answered;
  --stats_.in_flight;
  return response;
}

http_response service::health_live(call&) { return json_response(200, "{\"live\":true}"); }

http_response service::health_ready(call&) {
  if (draining_) return error_response(503, "not ready: shutting down");
  if (!ready()) return error_response(503, "not ready: loading models");
  return json_response(200, "{\"ready\":true}");
}

http_response service::server_metadata(call&) {
  const json out = {{"name", "ptjs"}, {"version", options_.version}, {"extensions", {"binary_tensor_data"}}};
  return json_response(200, out.dump());
}

http_response service::model_metadata(call& c) {
  const auto m = find_model(c.model);
  const json out = {{"name", m->name()},
                    {"versions", {model_version}},
                    {"platform", m->net().info().platform},
                    {"inputs", meta_json(m->inputs())},
                    {"outputs", meta_json(m->outputs())}};
  return json_response(200, out.dump());
}

http_response service::model_ready(call& c) {
  const auto m = find_model(c.model);
  if (draining_) return error_response(503, "not ready: shutting down");
  return json_response(200, json{{"name", m->name()}, {"ready", true}}.dump());
}

http_response service::ping(call&) {
  if (!ready()) return json_response(503, "{\"status\":\"Unhealthy\"}");
  return json_response(200, "{\"status\":\"Healthy\"}");
}

http_response service::metrics_text(call&) {
  std::vector<metrics::model_state> states;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, m] : models_) states.push_back({name, m->queue_depth(), !draining_});
  }
  return {200, "text/plain; version=0.0.4", stats_.render(states), {}};
}

http_response service::openapi(call&) {
  return json_response(200, openapi_json(api_routes(), options_.version, !options_.api_key.empty()));
}

http_response service::model_config(call& c) {
  const auto m = find_model(c.model);
  const model_spec& spec = m->spec();
  json post = json::array();
  for (const auto& step : spec.postprocess) {
    json one = {{"name", step.name}};
    if (step.name == "Softmax") one["dim"] = step.dim;
    if (step.name == "TopK") one["k"] = step.k;
    post.push_back(one);
  }
  json input = {{"type", spec.input_type}};
  if (m->image_input()) input["mode"] = color_mode_name(spec.mode);
  const json out = {{"name", m->name()},
                    {"platform", m->net().info().platform},
                    {"input", input},
                    {"inputs", meta_json(m->inputs())},
                    {"outputs", meta_json(m->outputs())},
                    {"preprocess", m->pipeline_yaml()},
                    {"postprocess", post},
                    {"labels", spec.labels},
                    {"max_batch_size", m->batching().max_batch_size},
                    {"max_delay_ms", m->batching().max_delay_ms},
                    {"lanes", m->batching().lanes},
                    {"runs", m->net().execution_plan()}};
  return json_response(200, out.dump());
}

// Triton's repository index: models load one after another in the order given, so those not
// loaded yet are the last ones of the list.
http_response service::repository_index(call&) {
  json out = json::array();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, m] : models_)
    out.push_back(draining_ ? json{{"name", name}, {"version", model_version}, {"state", "UNAVAILABLE"},
                                   {"reason", "shutting down"}}
                            : json{{"name", name}, {"version", model_version}, {"state", "READY"}});
  if (loading_) {
    for (size_t i = models_.size(); i < options_.models.size(); ++i) {
      const auto& given = options_.models[i];
      std::string name = given.name;
      if (name.empty()) {
        name = given.path.substr(given.path.find_last_of('/') + 1);
        name = name.substr(0, name.find('.'));
      }
      out.push_back({{"name", name}, {"version", model_version}, {"state", "LOADING"}});
    }
  }
  return json_response(200, out.dump());
}

http_response service::ui_page(call&) {
  http_response out = ui_response(*find_ui_asset("index.html"));
  // The page asks for the key before its first call when the server wants one.
  if (!options_.api_key.empty()) {
    const std::string mark = "data-api-key=\"optional\"";
    const size_t at = out.body.find(mark);
    if (at != std::string::npos) out.body.replace(at, mark.size(), "data-api-key=\"required\"");
  }
  return out;
}

http_response service::ui_file(call& c) {
  const ui_asset* asset = c.asset == "index.html" ? nullptr : find_ui_asset(c.asset);
  if (asset == nullptr) throw error(error_code::not_found, "the page has no file '" + c.asset + "'");
  return ui_response(*asset);
}

void service::read_body(call& c) {
  const auto begin = clock::now();
  c.request.read_body();
  c.timing.read_ms = seconds_between(begin, clock::now()) * 1000.0;
}

std::future<batch_result> service::submit_image(served_model& m, std::string_view encoded, call& c) {
  const auto begin = clock::now();
  auto decoded_at = begin;
  batch_input input;
  {
    // Images over the pixel limit are refused by the decoder at once: they take no room.
    uint64_t bytes = 0;
    if (const auto header = sniff_image_header(encoded)) {
      const uint64_t pixels = static_cast<uint64_t>(header->width) * static_cast<uint64_t>(header->height);
      if (pixels <= options_.max_image_pixels) bytes = pixels * kDecodeBytesPerPixel;
    }
    const memory_budget::lease room = decode_budget_.acquire(bytes, c.deadline);
    cv::Mat decoded = m.decode(encoded);
    decoded_at = clock::now();
    input.image = m.preprocess(std::move(decoded));
  }
  const auto end = clock::now();
  // Waiting for room in the decode budget counts as decoding: it is what the decoder costs.
  c.timing.decode_ms += seconds_between(begin, decoded_at) * 1000.0;
  c.timing.preprocess_ms += seconds_between(decoded_at, end) * 1000.0;
  stats_.observe(m.name(), metrics::stage::preprocess, seconds_between(begin, end));
  return m.submit(std::move(input), c.deadline);
}

batch_result service::wait(served_model& m, std::future<batch_result>& pending, call& c) {
  if (pending.wait_until(c.deadline) != std::future_status::ready)
    throw error(error_code::timeout, "no answer within " + std::to_string(options_.timeout_ms) +
                                         " ms (--timeout-ms); the model is busy or slow");
  batch_result result = pending.get();
  stats_.observe(m.name(), metrics::stage::queue, result.queue_ms / 1000.0);
  c.timing.queue_ms = std::max(c.timing.queue_ms, result.queue_ms);
  c.timing.forward_ms = std::max(c.timing.forward_ms, result.infer_ms);
  return result;
}

http_response service::infer(call& c) {
  const auto m = find_model(c.model);
  batcher::arrival on_its_way = m->expect();
  read_body(c);
  std::optional<size_t> header_length;
  const std::string header = c.request.header("Inference-Header-Content-Length");
  if (!header.empty()) {
    if (header.find_first_not_of("0123456789") != std::string::npos || header.size() > 18)
      throw error(error_code::invalid_input, "Inference-Header-Content-Length must be a byte count, got '" + header + "'");
    header_length = std::stoull(header);
  }
  const v2_request request = parse_v2_request(c.request.body, header_length);
  const auto& inputs = m->inputs();

  std::vector<host_tensor> outputs;
  const bool images = m->image_input() && request.inputs.size() == 1 && request.inputs[0].datatype == "BYTES";
  if (images) {
    const v2_input& in = request.inputs[0];
    if (in.name != inputs[0].name)
      throw error(error_code::invalid_input, "model '" + m->name() + "' has no input '" + in.name + "' (its input: '" +
                                                 inputs[0].name + "')");
    if (in.shape.empty() || in.shape.size() > 2 || (in.shape.size() == 2 && in.shape[1] != 1) || in.shape[0] < 1)
      throw error(error_code::invalid_input, "input '" + in.name + "': BYTES images take shape [N] or [N, 1], got " +
                                                 shape_text(in.shape));
    std::vector<std::future<batch_result>> pending;
    for (size_t i = 0; i < in.bytes.size(); ++i) {
      try {
        pending.push_back(submit_image(*m, in.from_binary ? in.bytes[i] : base64_decode(in.bytes[i]), c));
      } catch (const error& e) {
        if (in.bytes.size() == 1) throw;
        throw error(e.code(), "input '" + in.name + "' element " + std::to_string(i) + ": " + e.what());
      }
    }
    on_its_way.release();
    std::vector<std::vector<host_tensor>> parts;
    for (auto& p : pending) parts.push_back(wait(*m, p, c).outputs);
    outputs = concat_rows(std::move(parts));
  } else {
    batch_input input;
    for (const auto& meta : inputs) {
      const auto it = std::find_if(request.inputs.begin(), request.inputs.end(),
                                   [&](const v2_input& in) { return in.name == meta.name; });
      if (it == request.inputs.end())
        throw error(error_code::invalid_input, "input '" + meta.name + "' is missing (expected " + meta.datatype + " " +
                                                   shape_text(meta.shape) + ")");
      check_tensor(meta, it->datatype, it->shape);
      input.tensors.push_back(it->tensor);
    }
    for (const auto& in : request.inputs) {
      if (std::none_of(inputs.begin(), inputs.end(), [&](const tensor_meta& t) { return t.name == in.name; })) {
        std::string names;
        for (const auto& t : inputs) names += (names.empty() ? "'" : ", '") + t.name + "'";
        throw error(error_code::invalid_input, "model '" + m->name() + "' has no input '" + in.name + "' (inputs: " + names + ")");
      }
    }
    for (const auto& t : input.tensors)
      if (t.shape[0] != input.tensors.front().shape[0])
        throw error(error_code::invalid_input, "inputs '" + input.tensors.front().name + "' and '" + t.name +
                                                   "' disagree on the batch (first) dimension");
    auto pending = m->submit(std::move(input), c.deadline);
    on_its_way.release();
    outputs = wait(*m, pending, c).outputs;
  }

  v2_encoded encoded = encode_v2_response(m->name(), request, outputs, m->spec().labels);
  http_response out{200, encoded.content_type, std::move(encoded.body), {}};
  if (encoded.header_length)
    out.headers.emplace_back("Inference-Header-Content-Length", std::to_string(*encoded.header_length));
  return out;
}

http_response service::predictions(call& c) {
  const auto m = find_model(c.model);
  if (!m->image_input())
    throw error(error_code::invalid_input, "model '" + m->name() + "' takes tensors, not images: use POST /v2/models/" +
                                               m->name() + "/infer");
  batcher::arrival on_its_way = m->expect();
  read_body(c);
  std::vector<std::string> images;
  std::vector<std::string> names;  // how each image is called in error messages
  bool as_array = false;
  const std::string type = c.request.header("Content-Type");
  const std::string& body = c.request.body;
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (c.request.is_multipart()) {
    for (auto& part : c.request.parts) {
      names.push_back("part '" + part.name + "'" + (part.filename.empty() ? "" : " (" + part.filename + ")"));
      images.push_back(std::move(part.data));
    }
    as_array = images.size() > 1;
  } else if (starts_with_ci(type, "application/json") ||
             (first != std::string::npos && (body[first] == '{' || body[first] == '['))) {
    check_json_depth(body);
    json doc;
    try {
      doc = json::parse(body);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e999
      throw error(error_code::invalid_input, std::string("the request is not valid JSON: ") + e.what());
    }
    as_array = doc.is_array();
    const json items = as_array ? doc : json::array({doc});
    for (size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      const auto it = item.is_object() ? item.find("b64") : item.end();
      if (!item.is_object() || it == item.end() || !it->is_string())
        throw error(error_code::invalid_input, "a JSON body must be {\"b64\": \"<base64 image>\"} or a list of them");
      names.push_back("image " + std::to_string(i));
      images.push_back(base64_decode(it->get<std::string>()));
    }
  } else {
    names.push_back("the body");
    images.push_back(body);
  }
  if (images.empty()) throw error(error_code::invalid_input, "the request holds no image");

  std::vector<std::future<batch_result>> pending;
  for (size_t i = 0; i < images.size(); ++i) {
    try {
      pending.push_back(submit_image(*m, images[i], c));
    } catch (const error& e) {
      if (images.size() == 1) throw;
      throw error(e.code(), names[i] + ": " + e.what());
    }
  }
  on_its_way.release();
  std::string text;
  for (size_t i = 0; i < pending.size(); ++i) {
    record r;
    m->post().apply(wait(*m, pending[i], c).outputs, {&r});
    text += (i ? "," : "") + record_body(r);
  }
  return json_response(200, as_array ? "[" + text + "]" : text);
}

}  // namespace ptjs
