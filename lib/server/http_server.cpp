// The only file that includes httplib.h.
#include "http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <iostream>
#include <thread>

#include <httplib.h>

#include "connection_guard.h"
#include "error.h"
#include "log.h"

namespace ptjs {
namespace {

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string json_error(const std::string& message) {
  std::string out = "{\"error\":\"";
  for (char c : message) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"}";
}

// Messages for errors httplib answers on its own, before any handler runs.
std::string transport_error_message(int status) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 404: return "no such endpoint";
    case 413: return "request body too large";
    case 414: return "request URI too long";
    case 431: return "request headers too large";
    case 415: return "unsupported content encoding";
    default: return "HTTP error " + std::to_string(status);
  }
}

std::string peer_of(const httplib::Request& req) {
  return req.remote_addr + ":" + std::to_string(req.remote_port);
}

// Connections the kernel has accepted on the listening socket `fd` that accept() has not taken
// yet (Linux reports the accept queue's length in tcpi_unacked for a listener); -1 if unknown.
int accept_queue_length(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return -1;
  return static_cast<int>(info.tcpi_unacked);
}

}  // namespace

std::string http_request::header(const std::string& name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return {};
}

bool http_request::is_multipart() const {
  std::string type = header("Content-Type");
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  return type.rfind("multipart/form-data", 0) == 0;
}

void http_request::read_body() {
  if (body_read) return;
  body_read = true;
  if (body_reader) body_reader(*this);
}

struct http_server::impl {
  http_server_options options;
  handler handle;
  std::unique_ptr<httplib::Server> server;
  std::atomic<int> listen_fd{-1};
  std::atomic<bool> stopped{false};
  std::atomic<bool> accept_loop_ended{false};  // httplib has closed the listener itself
  std::unique_ptr<connection_guard> guard;  // from bind()

  void dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader);
  void install();
};

void http_server::impl::dispatch(const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader* reader) {
  http_request request;
  request.method = req.method == "HEAD" ? "GET" : req.method;
  request.path = req.path;
  request.remote_addr = req.remote_addr;
  for (const auto& [key, value] : req.headers) request.headers.emplace_back(key, value);
  const size_t limit = options.max_body_bytes;
  const std::string peer = peer_of(req);
  bool read_failed = false;
  if (reader == nullptr) {
    request.body = req.body;
    request.body_read = true;
    if (guard) guard->request_read(peer);
  } else {
    request.body_reader = [this, &req, reader, limit, &peer, &read_failed](http_request& out) {
      size_t total = 0;
      bool over = false;
      const auto count = [&](size_t n) {
        total += n;
        over = over || total > limit;
        return !over;
      };
      bool ok;
      if (req.is_multipart_form_data()) {
        ok = (*reader)(
            [&](const httplib::MultipartFormData& part) {
              out.parts.push_back({part.name, part.filename, part.content_type, {}});
              return true;
            },
            [&](const char* data, size_t n) {
              if (!count(n)) return false;
              out.parts.back().data.append(data, n);
              return true;
            });
      } else {
        ok = (*reader)([&](const char* data, size_t n) {
          if (!count(n)) return false;
          out.body.append(data, n);
          return true;
        });
      }
      read_failed = over || !ok;
      if (!read_failed && guard) guard->request_read(peer);
      // httplib refuses a Content-Length over the limit itself (after discarding the body).
      const auto declared = req.get_header_value<uint64_t>("Content-Length");
      if (over || declared > limit)
        throw error(error_code::too_large, "the request body is over the limit of " + std::to_string(limit) +
                                               " bytes (--max-body-bytes)");
      if (!ok) throw error(error_code::invalid_input, "cannot read the request body: truncated, too slow or malformed multipart");
    };
  }

  http_response response;
  try {
    response = handle(request);
  } catch (const std::exception& e) {
    response = {500, "application/json", json_error("internal error"), {}};
    log_line("ptjs serve: unhandled error for " + req.method + " " + req.path + ": " + e.what());
  }
  // A body left unread would be parsed as the next request on this connection; reading it
  // (httplib discards one over the limit) also lets the client see this response instead of
  // a reset.
  if (!request.body_read && reader != nullptr) {
    const auto discard = [](const char*, size_t) { return true; };
    try {
      if (req.is_multipart_form_data())
        (*reader)([](const httplib::MultipartFormData&) { return true; }, discard);
      else
        (*reader)(discard);
    } catch (...) {
    }
  }
  res.status = response.status;
  for (const auto& [key, value] : response.headers) res.set_header(key, value);
  // Whatever is left of a body that could not be read would be taken for the next request.
  if (read_failed) res.set_header("Connection", "close");
  if (!response.body.empty() || response.status != 204)
    res.set_content(response.body, response.content_type);
}

void http_server::impl::install() {
  httplib::Server& s = *server;
  const auto plain = [this](const httplib::Request& req, httplib::Response& res) { dispatch(req, res, nullptr); };
  const auto streamed = [this](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader& reader) { dispatch(req, res, &reader); };
  // Catch-alls: the caller's handler owns routing, so that 404/405, auth and CORS follow one
  // table and one set of rules.
  s.Get(".*", plain);
  s.Options(".*", plain);
  s.Post(".*", streamed);
  s.Put(".*", streamed);
  s.Patch(".*", streamed);
  s.Delete(".*", streamed);

  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content(json_error(transport_error_message(res.status)), "application/json");
  });
  // Header limits: httplib 0.11 caps each line (8 KiB) but not their number.
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    size_t count = 0, bytes = 0;
    for (const auto& [key, value] : req.headers) {
      // httplib adds these four itself.
      if (key == "REMOTE_ADDR" || key == "REMOTE_PORT" || key == "LOCAL_ADDR" || key == "LOCAL_PORT") continue;
      ++count;
      bytes += key.size() + value.size();
    }
    if (guard) guard->headers_read(peer_of(req));
    if (count <= options.max_header_count && bytes <= options.max_header_bytes)
      return httplib::Server::HandlerResponse::Unhandled;
    res.status = 431;
    res.set_header("Connection", "close");
    res.set_content(json_error("request headers too large: " + std::to_string(count) + " headers, " +
                               std::to_string(bytes) + " bytes (limits " + std::to_string(options.max_header_count) +
                               " and " + std::to_string(options.max_header_bytes) + ")"),
                    "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (guard) guard->response_sent(peer_of(req), iequals(res.get_header_value("Connection"), "close"));
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(json_error("internal error"), "application/json");
  });

  httplib::Headers defaults;
  for (const auto& [key, value] : options.default_headers) defaults.emplace(key, value);
  s.set_default_headers(defaults);

  const int threads = std::max(1, options.threads);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // Accepted sockets inherit TCP_NODELAY from the listening socket on Linux.
  s.set_tcp_nodelay(true);
  // Only SO_REUSEADDR (restarts while old connections linger): httplib's default also sets
  // SO_REUSEPORT, which would let a second server share the port silently.
  s.set_socket_options([this](int fd) {
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = fd;
  });
  s.set_keep_alive_max_count(static_cast<size_t>(std::max(1, options.keep_alive_max_count)));
  s.set_keep_alive_timeout(std::max(1, options.keep_alive_timeout_s));
  s.set_read_timeout(options.read_timeout_ms / 1000, (options.read_timeout_ms % 1000) * 1000);
  s.set_write_timeout(options.write_timeout_ms / 1000, (options.write_timeout_ms % 1000) * 1000);
  s.set_payload_max_length(options.max_body_bytes);
}

http_server::http_server(http_server_options options, handler handle) : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  impl_->handle = std::move(handle);
  const auto& o = impl_->options;
  if (o.tls_cert.empty() != o.tls_key.empty())
    throw error(error_code::invalid_config, "TLS needs both --tls-cert and --tls-key");
  if (!o.tls_cert.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(o.tls_cert.c_str(), o.tls_key.c_str());
    if (!tls->is_valid())
      throw error(error_code::invalid_config, "cannot use the TLS certificate '" + o.tls_cert + "' and key '" +
                                                  o.tls_key + "' (unreadable, not PEM, or not a matching pair)");
    impl_->server = std::move(tls);
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  impl_->install();
}

http_server::~http_server() {
  stop();
}

int http_server::bind() {
  const auto& o = impl_->options;
  int port = o.port;
  if (port == 0) {
    port = impl_->server->bind_to_any_port(o.host);
    if (port < 0) port = -1;
  } else if (!impl_->server->bind_to_port(o.host, port)) {
    port = -1;
  }
  if (port < 0)
    throw error(error_code::invalid_config, "cannot listen on " + o.host + ":" + std::to_string(o.port) +
                                                " (address in use, not local, or not permitted)");
  // httplib listens with a backlog of 5, which drops connections when many clients connect at
  // once; Linux lets a second listen() raise it.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
  connection_guard::limits limits;
  limits.request_timeout = std::chrono::milliseconds(std::max(0, o.request_timeout_ms));
  // Request line and header lines (httplib caps each at 8 KiB), with their CRLFs and colons, and
  // httplib's 4 KiB read-ahead, which may already hold some of the body.
  limits.max_head_bytes =
      o.max_header_bytes == 0 ? 0 : o.max_header_bytes + 8192 + 4 * (o.max_header_count + 1) + 4096;
  impl_->guard = std::make_unique<connection_guard>(port, limits, tls());
  return port;
}

void http_server::serve() {
  if (impl_->stopped) return;
  impl_->server->listen_after_bind();
  // The accept loop ends by closing the listener (its number may be reused at once); the guard
  // stays until the destructor.
  impl_->accept_loop_ended = true;
}

void http_server::stop() {
  if (impl_->stopped.exchange(true)) return;
  // httplib's own stop() marks the server socket invalid, and its connection loops then drop
  // every connection not yet read, those in the listen backlog included. Instead: let the
  // accept loop empty the backlog (it only hands connections to the pool), then shut the
  // listener down: accept() fails, the loop closes the listener and serves what it took.
  const int fd = impl_->listen_fd.exchange(-1);
  if (fd < 0 || impl_->accept_loop_ended) return;  // never bound, or already closed
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (accept_queue_length(fd) > 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ::shutdown(fd, SHUT_RDWR);
  // The accept loop then waits for every connection's thread, and a kept-alive one waits for a
  // next request until its keep-alive timeout: the guard closes those that wait.
  if (impl_->guard) impl_->guard->drain();
}

size_t http_server::slow_connections_closed() const { return impl_->guard ? impl_->guard->closed() : 0; }

bool http_server::tls() const { return !impl_->options.tls_cert.empty(); }

}  // namespace ptjs
