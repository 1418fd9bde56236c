// The HTTP transport: cpp-httplib behind a pimpl, so nothing else includes httplib.h.
// Every request, whatever its method and path, goes to one handler; routing is the caller's.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ptjs {

// One part of a multipart/form-data body, in the order the client sent it.
struct form_part {
  std::string name;
  std::string filename;
  std::string content_type;
  std::string data;
};

struct http_request {
  std::string method;  // GET, POST, OPTIONS, ... (HEAD arrives as GET)
  std::string path;    // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string remote_addr;

  // Case-insensitive; empty when absent.
  std::string header(const std::string& name) const;
  bool is_multipart() const;

  // Reads the body: `body` for ordinary requests, `parts` for multipart/form-data. Call once, after
  // deciding to serve the request (so unauthenticated or unroutable requests cost no reading).
  // Throws ptjs::error: too_large over the body limit, invalid_input when the client stops
  // sending, sends malformed multipart, or stalls past the read timeout.
  void read_body();
  std::string body;
  std::vector<form_part> parts;

  // Set by the transport: fills body/parts. Empty when the transport already read the body.
  std::function<void(http_request&)> body_reader;
  bool body_read = false;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct http_server_options {
  std::string host = "127.0.0.1";
  int port = 8080;                  // 0: any free port
  int threads = 16;                 // connections served at once (each keeps one while alive)
  size_t max_body_bytes = 64u << 20;
  int read_timeout_ms = 10000;      // a client that sends nothing for this long is dropped
  int write_timeout_ms = 10000;
  int keep_alive_timeout_s = 5;     // idle keep-alive connections close after this
  int keep_alive_max_count = 100;   // requests per connection
  // A connection must deliver each whole request (headers and body) within this of being
  // accepted or of its previous response, else 408 and closed; 0: no limit.
  int request_timeout_ms = 60000;
  size_t max_header_count = 100;      // else 431
  size_t max_header_bytes = 64u << 10;  // names and values together, else 431
  std::string tls_cert;             // PEM files; both or neither
  std::string tls_key;
  // Added to every response, including the transport's own errors (e.g. CORS headers).
  std::vector<std::pair<std::string, std::string>> default_headers;
};

class http_server {
 public:
  // Called on the transport's worker threads, concurrently. Must not throw (a throw becomes a
  // 500 with a generic message).
  using handler = std::function<http_response(http_request&)>;

  // Throws ptjs::error(invalid_config) when TLS files cannot be used.
  http_server(http_server_options options, handler handle);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds and listens; returns the port (the chosen one when options.port is 0). Throws
  // ptjs::error(invalid_config) when the address cannot be bound.
  int bind();
  // Accepts connections until stop(); returns after every connection accepted before stop()
  // has been served (kept-alive ones until the client closes or they idle out).
  void serve();
  // Stops accepting: connections already accepted by the kernel are still served. Thread-safe,
  // callable from any thread, idempotent.
  void stop();
  // Connections closed for not sending a whole request in time (request_timeout_ms).
  size_t slow_connections_closed() const;
  bool tls() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ptjs
