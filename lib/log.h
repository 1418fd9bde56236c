// One line on stderr in one write(2). std::cerr writes each `<<` piece as its own write, so a
// program reading ptjs's stderr through a pipe could see part of a line (a client waiting for
// "listening on http://127.0.0.1:PORT" took "http://127.0.0.1" for the address when the port
// came in the next chunk), and lines from different threads could interleave mid-line.
#pragma once

#include <string>

namespace ptjs {

// Writes `line` and a newline to stderr at once; lines from other threads go before or after.
void log_line(const std::string& line);

}  // namespace ptjs
