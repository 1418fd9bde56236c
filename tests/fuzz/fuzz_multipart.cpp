// Fuzz target (c): HTTP request parsing and multipart/form-data bodies as `ptjs serve` reads
// them. ptjs does not parse multipart itself: cpp-httplib does, and lib/server/http_server.cpp
// collects the parts through httplib's ContentReader. This target feeds bytes to httplib's
// server request loop (process_request, through an in-memory stream instead of a socket) with
// a handler that reads the body exactly as http_server.cpp does (same callbacks, same limit
// accounting), then quotes part names and file names into a JSON error message as the routes do.
//
// Input layout: the first byte chooses the mode; the rest is:
//   byte0 % 2 == 0: a multipart body; the request line and headers (boundary "ptjsfuzz",
//                   Content-Length) are put in front of it
//   byte0 % 2 == 1: a whole raw request stream (request line, headers, body; keep-alive, so
//                   several requests may follow each other)
//
// Debian's cpp-httplib is a compiled library without coverage instrumentation: libFuzzer sees
// coverage only in this file and in ptjs's JSON quoting, so it mutates almost blindly inside
// httplib. Crashes and sanitizer reports in httplib's code are still caught.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "sinks.h"

namespace {

constexpr size_t body_limit = 2048;  // small, so the over-the-limit path runs often

class memory_stream : public httplib::Stream {
 public:
  memory_stream(const char* data, size_t size) : data_(data), size_(size) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, size_ - pos_);
    std::memcpy(ptr, data_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char*, size_t size) override { return static_cast<ssize_t>(size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return -1; }
  bool done() const { return pos_ >= size_; }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

struct part {
  std::string name, filename, content_type, data;
};

// What http_server.cpp's body_reader does, minus the ptjs::error it throws at the end.
void read_like_ptjs(const httplib::Request& req, const httplib::ContentReader& reader) {
  std::vector<part> parts;
  std::string body;
  size_t total = 0;
  bool over = false;
  const auto count = [&](size_t n) {
    total += n;
    over = over || total > body_limit;
    return !over;
  };
  if (req.is_multipart_form_data()) {
    reader(
        [&](const httplib::MultipartFormData& p) {
          parts.push_back({p.name, p.filename, p.content_type, {}});
          return true;
        },
        [&](const char* data, size_t n) {
          if (!count(n)) return false;
          if (parts.empty()) __builtin_trap();  // http_server.cpp would call back() on an empty vector
          parts.back().data.append(data, n);
          return true;
        });
  } else {
    reader([&](const char* data, size_t n) {
      if (!count(n)) return false;
      body.append(data, n);
      return true;
    });
  }
  // The routes name parts in error messages ("part 'x' (a.jpg): cannot decode image"); the
  // quoted message must stay valid JSON whatever bytes the client put in names.
  for (const auto& p : parts) {
    const std::string message = "part '" + p.name + "'" + (p.filename.empty() ? "" : " (" + p.filename + ")");
    const std::string doc = "{\"error\":" + ptjs::json_quote(message) + "}";
    if (!nlohmann::json::accept(doc)) __builtin_trap();
  }
}

class fuzz_server : public httplib::Server {
 public:
  fuzz_server() {
    const auto streamed = [](const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& reader) {
      read_like_ptjs(req, reader);
      res.set_content("{}", "application/json");
    };
    const auto plain = [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); };
    Get(".*", plain);
    Options(".*", plain);
    Post(".*", streamed);
    Put(".*", streamed);
    Patch(".*", streamed);
    Delete(".*", streamed);
    set_payload_max_length(body_limit);
    set_keep_alive_max_count(4);
  }
  void feed(memory_stream& stream) {
    for (int i = 0; i < 4 && !stream.done(); ++i) {
      bool closed = false;
      if (!process_request(stream, false, closed, nullptr) || closed) break;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz_server server;
  if (size < 1) return 0;
  const char* rest = reinterpret_cast<const char*>(data) + 1;
  const size_t n = size - 1;
  if (data[0] % 2 == 0) {
    std::string request =
        "POST /predictions/digits HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=ptjsfuzz\r\nContent-Length: " +
        std::to_string(n) + "\r\n\r\n";
    request.append(rest, n);
    memory_stream stream(request.data(), request.size());
    server.feed(stream);
  } else {
    memory_stream stream(rest, n);
    server.feed(stream);
  }
  return 0;
}
