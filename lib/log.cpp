#include "log.h"

#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <mutex>

namespace ptjs {

void log_line(const std::string& line) {
  static std::mutex mu;
  const std::string text = line + "\n";
  std::lock_guard<std::mutex> lock(mu);
  std::cerr.flush();  // whatever went through std::cerr comes first
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stderr closed or full: nothing better to do with a log line
    done += static_cast<size_t>(n);
  }
}

}  // namespace ptjs
