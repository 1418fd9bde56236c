#include "torch_warnings.h"

#include <mutex>
#include <set>
#include <string>

#include <torch/version.h>

#include "log.h"

namespace ptjs {
namespace {

#if TORCH_VERSION_MAJOR >= 2
void set_handler(c10::WarningHandler* h) { c10::WarningUtils::set_warning_handler(h); }
c10::WarningHandler* get_handler() { return c10::WarningUtils::get_warning_handler(); }
#else
void set_handler(c10::WarningHandler* h) { c10::Warning::set_warning_handler(h); }
c10::WarningHandler* get_handler() { return c10::Warning::get_warning_handler(); }
#endif

// c10::WarningHandler::process changed its signature in 2.0: both call report().
class reporting_handler : public c10::WarningHandler {
 public:
#if TORCH_VERSION_MAJOR >= 2
  void process(const c10::Warning& w) override { report(w.source_location(), w.msg()); }
#else
  void process(const c10::SourceLocation& where, const std::string& msg, const bool) override { report(where, msg); }
#endif
  virtual void report(const c10::SourceLocation& where, const std::string& msg) = 0;
};

class silent_handler : public reporting_handler {
 public:
  void report(const c10::SourceLocation&, const std::string&) override {}
};

class warn_once_handler : public reporting_handler {
 public:
  void report(const c10::SourceLocation& where, const std::string& msg) override {
    std::string place;
    if (where.file != nullptr && *where.file != '\0') place = std::string(where.file) + ":" + std::to_string(where.line);
    std::lock_guard<std::mutex> lock(mu_);
    if (seen_.size() > max_shown || !seen_.insert(place + "\n" + msg).second) return;
    if (seen_.size() > max_shown) {
      log_line("ptjs: model warning: more than " + std::to_string(max_shown) + " different warnings; no more are shown");
      return;
    }
    log_line("ptjs: model warning: " + msg + (place.empty() ? "" : " (" + place + ")"));
  }

 private:
  static constexpr size_t max_shown = 64;  // a model that puts a counter in its message
  std::mutex mu_;
  std::set<std::string> seen_;  // guarded by mu_
};

}  // namespace

warning_handler_scope::warning_handler_scope(c10::WarningHandler* handler) : previous_(get_handler()) {
  set_handler(handler);
}

warning_handler_scope::~warning_handler_scope() { set_handler(previous_); }

// Both are never destroyed: a lane may still warn while the process exits.
c10::WarningHandler* silent_warnings() {
  static auto* handler = new silent_handler;
  return handler;
}

c10::WarningHandler* warn_once() {
  static auto* handler = new warn_once_handler;
  return handler;
}

}  // namespace ptjs
