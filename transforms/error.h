// The one error type of ptjs: a code and a message that says what, where and what is accepted.
#pragma once

#include <stdexcept>
#include <string>

namespace ptjs {

enum class error_code {
  invalid_input,  // a bad image, tensor, request or argument from a user (HTTP 400)
  invalid_config, // a bad model spec, pipeline or command line (exit 2)
  not_found,      // an unknown model or a missing file (HTTP 404)
  too_large,      // over a size, pixel or dimension limit (HTTP 413)
  unavailable,    // not ready, queue full, shutting down (HTTP 503)
  timeout,        // a deadline passed (HTTP 504)
  internal,       // the model or the library failed (HTTP 500)
};

class error : public std::runtime_error {
 public:
  error(error_code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  error_code code() const noexcept { return code_; }

 private:
  error_code code_;
};

}  // namespace ptjs
