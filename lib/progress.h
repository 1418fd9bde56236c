// A one-line progress bar on stderr: done/total, images/s, ETA. Redraws at most 10 times a second.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace ptjs {

class progress_bar {
 public:
  progress_bar(size_t total, bool enabled);
  void update(size_t done, size_t failed);
  void finish(size_t done, size_t failed);  // final redraw and newline (when enabled)
  std::string elapsed_text() const;         // "3.2 s (110.4 img/s)"

 private:
  void draw(size_t done, size_t failed);

  size_t total_;
  bool enabled_;
  size_t last_done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace ptjs
