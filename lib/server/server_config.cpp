// server.yaml: the same settings as the `ptjs serve` flags, read strictly (unknown keys and
// bad values are errors with file:line:column).
#include <algorithm>
#include <cstdlib>
#include <limits>

#include <yaml-cpp/yaml.h>

#include "error.h"
#include "registry.h"
#include "server.h"

namespace ptjs {
namespace {

struct reader {
  std::string source;

  [[noreturn]] void fail(const YAML::Node& node, const std::string& what) const {
    throw error(error_code::invalid_config, format_location(source, node.Mark()) + what);
  }

  void check_keys(const YAML::Node& map, const std::string& owner, const std::vector<std::string>& accepted) const {
    for (const auto& kv : map) {
      const auto key = kv.first.as<std::string>();
      if (std::find(accepted.begin(), accepted.end(), key) == accepted.end()) {
        std::string list;
        for (const auto& a : accepted) list += (list.empty() ? "" : ", ") + a;
        fail(kv.first, owner + "unknown key '" + key + "' (accepted: " + list + ")");
      }
    }
  }

  template <typename T>
  T get(const YAML::Node& node, const std::string& key) const {
    const YAML::Node v = node[key];
    if (!v.IsScalar()) fail(v, "'" + key + "' must be a scalar");
    try {
      return v.as<T>();
    } catch (const YAML::Exception&) {
      fail(v, "'" + key + "' has a bad value '" + v.Scalar() + "'");
    }
  }

  int64_t get_int(const YAML::Node& node, const std::string& key, int64_t min, int64_t max) const {
    const auto v = get<int64_t>(node, key);
    if (v < min || v > max)
      fail(node[key], "'" + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max) +
                          ", got " + std::to_string(v));
    return v;
  }
};

std::string resolve_path(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return dir + "/" + path;
}

}  // namespace

served_model_options parse_model_argument(const std::string& argument) {
  served_model_options out;
  const auto eq = argument.find('=');
  const auto slash = argument.find('/');
  if (eq != std::string::npos && eq > 0 && (slash == std::string::npos || eq < slash)) {
    out.name = argument.substr(0, eq);
    out.path = argument.substr(eq + 1);
  } else {
    out.path = argument;
  }
  return out;
}

void load_server_config(const std::string& path, server_options& options) {
  reader r{path};
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw error(error_code::invalid_config, "cannot read server config '" + path + "'");
  } catch (const YAML::Exception& e) {
    throw error(error_code::invalid_config, format_location(path, e.mark) + "not valid YAML: " + e.msg);
  }
  if (!root.IsMap()) r.fail(root, "a server config must be a map with keys like host, port, models");
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  r.check_keys(root, "", {"host", "port", "models", "max_batch_size", "max_delay_ms", "queue_size", "timeout_ms",
                          "api_key", "api_key_env", "cors", "http_threads", "threads", "max_body_bytes",
                          "max_image_pixels", "max_decode_bytes", "read_timeout_ms", "request_timeout_ms", "keep_alive_s",
                          "drain_timeout_s", "tls", "lanes", "optimize", "ui"});
  const int64_t int_max = std::numeric_limits<int>::max();
  if (root["host"]) options.host = r.get<std::string>(root, "host");
  if (root["port"]) options.port = static_cast<int>(r.get_int(root, "port", 0, 65535));
  if (root["max_batch_size"]) options.max_batch_size = static_cast<int>(r.get_int(root, "max_batch_size", 1, 4096));
  if (root["max_delay_ms"]) options.max_delay_ms = static_cast<int>(r.get_int(root, "max_delay_ms", 0, 60000));
  if (root["queue_size"]) options.queue_size = static_cast<size_t>(r.get_int(root, "queue_size", 1, 1 << 20));
  if (root["timeout_ms"]) options.timeout_ms = static_cast<int>(r.get_int(root, "timeout_ms", 1, int_max));
  if (root["api_key"]) options.api_key = r.get<std::string>(root, "api_key");
  if (root["api_key_env"]) {
    const auto name = r.get<std::string>(root, "api_key_env");
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') r.fail(root["api_key_env"], "'api_key_env': the variable " + name + " is not set");
    options.api_key = value;
  }
  if (root["cors"]) options.cors_origin = r.get<std::string>(root, "cors");
  if (root["http_threads"]) options.http_threads = static_cast<int>(r.get_int(root, "http_threads", 0, 4096));
  if (root["lanes"]) options.lanes = static_cast<int>(r.get_int(root, "lanes", 0, 1024));
  if (root["optimize"]) options.optimize = r.get<bool>(root, "optimize");
  if (root["ui"]) options.ui = r.get<bool>(root, "ui");
  if (root["threads"]) options.torch_threads = static_cast<int>(r.get_int(root, "threads", 0, 1024));
  if (root["max_body_bytes"])
    options.max_body_bytes = static_cast<size_t>(r.get_int(root, "max_body_bytes", 1, std::numeric_limits<int64_t>::max()));
  if (root["max_image_pixels"])
    options.max_image_pixels = static_cast<uint64_t>(r.get_int(root, "max_image_pixels", 1, std::numeric_limits<int64_t>::max()));
  if (root["max_decode_bytes"])
    options.max_decode_bytes = static_cast<uint64_t>(r.get_int(root, "max_decode_bytes", 0, std::numeric_limits<int64_t>::max()));
  if (root["read_timeout_ms"]) options.read_timeout_ms = static_cast<int>(r.get_int(root, "read_timeout_ms", 1, int_max));
  if (root["request_timeout_ms"])
    options.request_timeout_ms = static_cast<int>(r.get_int(root, "request_timeout_ms", 0, int_max));
  if (root["drain_timeout_s"]) options.drain_timeout_s = static_cast<int>(r.get_int(root, "drain_timeout_s", 1, 86400));
  if (root["keep_alive_s"]) options.keep_alive_s = static_cast<int>(r.get_int(root, "keep_alive_s", 1, 3600));
  if (const YAML::Node tls = root["tls"]) {
    if (!tls.IsMap()) r.fail(tls, "'tls' must be a map {cert: FILE, key: FILE}");
    r.check_keys(tls, "tls: ", {"cert", "key"});
    if (tls["cert"]) options.tls_cert = resolve_path(dir, r.get<std::string>(tls, "cert"));
    if (tls["key"]) options.tls_key = resolve_path(dir, r.get<std::string>(tls, "key"));
  }
  if (const YAML::Node models = root["models"]) {
    if (!models.IsSequence()) r.fail(models, "'models' must be a list of {name, model, ...} maps");
    for (const auto& m : models) {
      served_model_options out;
      if (m.IsScalar()) {
        out = parse_model_argument(m.as<std::string>());
        out.path = resolve_path(dir, out.path);
        options.models.push_back(out);
        continue;
      }
      if (!m.IsMap()) r.fail(m, "each model must be a path or a map {name, model, pipeline, device, max_batch_size, max_delay_ms}");
      r.check_keys(m, "models: ", {"name", "model", "pipeline", "device", "max_batch_size", "max_delay_ms"});
      if (!m["model"]) r.fail(m, "models: 'model' (a .pt or .yaml path) is required");
      out.path = resolve_path(dir, r.get<std::string>(m, "model"));
      if (m["name"]) out.name = r.get<std::string>(m, "name");
      if (m["pipeline"]) out.pipeline = resolve_path(dir, r.get<std::string>(m, "pipeline"));
      if (m["device"]) out.device = r.get<std::string>(m, "device");
      if (m["max_batch_size"]) out.max_batch_size = static_cast<int>(r.get_int(m, "max_batch_size", 1, 4096));
      if (m["max_delay_ms"]) out.max_delay_ms = static_cast<int>(r.get_int(m, "max_delay_ms", 0, 60000));
      options.models.push_back(out);
    }
  }
}

}  // namespace ptjs
