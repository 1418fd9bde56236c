#include "server_timing.h"

#include <cstdio>

namespace ptjs {

std::string server_timing_header(const request_timing& timing) {
  const std::pair<const char*, double> stages[] = {{"read", timing.read_ms},
                                                   {"decode", timing.decode_ms},
                                                   {"preprocess", timing.preprocess_ms},
                                                   {"queue", timing.queue_ms},
                                                   {"forward", timing.forward_ms},
                                                   {"total", timing.total_ms}};
  std::string out;
  for (const auto& [name, ms] : stages) {
    char text[64];
    std::snprintf(text, sizeof text, "%s%s;dur=%.3f", out.empty() ? "" : ", ", name, ms < 0 ? 0.0 : ms);
    out += text;
  }
  return out;
}

}  // namespace ptjs
