#include "progress.h"

#include <cstdio>

namespace ptjs {

progress_bar::progress_bar(size_t total, bool enabled)
    : total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void progress_bar::update(size_t done, size_t failed) {
  last_done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
  last_draw_ = now;
  draw(done, failed);
}

void progress_bar::finish(size_t done, size_t failed) {
  last_done_ = done;
  if (!enabled_) return;
  draw(done, failed);
  std::fputc('\n', stderr);
}

void progress_bar::draw(size_t done, size_t failed) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  const int width = 30;
  const int filled = total_ ? static_cast<int>(width * done / total_) : width;
  char bar[width + 1];
  for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
  bar[width] = '\0';
  std::fprintf(stderr, "\r[%s] %zu/%zu  %.1f img/s  ETA %.0fs", bar, done, total_, rate, eta);
  if (failed) std::fprintf(stderr, "  %zu failed", failed);
  std::fflush(stderr);
}

std::string progress_bar::elapsed_text() const {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char text[64];
  std::snprintf(text, sizeof text, "%.2f s (%.1f img/s)", secs, secs > 0 ? static_cast<double>(last_done_) / secs : 0.0);
  return text;
}

}  // namespace ptjs
