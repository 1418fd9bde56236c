// The Server-Timing header of inference answers (W3C Server Timing): where a request's time went.
#pragma once

#include <string>

namespace ptjs {

// Milliseconds. For a request with several images, decode and preprocess add up (the request's
// thread does them one after the other) while queue and forward are the slowest image's (its
// images wait and run in batches side by side).
struct request_timing {
  double read_ms = 0;  // receiving the body (the head had arrived when the handler started)
  double decode_ms = 0;
  double preprocess_ms = 0;
  double queue_ms = 0;
  double forward_ms = 0;
  double total_ms = 0;
};

// "read;dur=0.02, decode;dur=1.234, preprocess;dur=0.456, queue;dur=0.1, forward;dur=3.2, total;dur=5.1":
// every stage, microsecond resolution, in that order.
std::string server_timing_header(const request_timing& timing);

}  // namespace ptjs
