#include "report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "error.h"
#include "sinks.h"
#include "image_io.h"

namespace ptjs {
namespace {

constexpr size_t kMaxThumbnails = 48;  // keeps a report of a large folder a few hundred KB
constexpr int kThumbnailSide = 96;
constexpr size_t kMaxRows = 200;       // table rows listed; the counts say how many there are

std::string escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64(const std::vector<unsigned char>& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    for (const int shift : {18, 12, 6, 0}) out += table[(v >> shift) & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = bytes[i] << 16;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// The image shrunk to fit kThumbnailSide, as a JPEG data: URI; empty when it cannot be read.
std::string thumbnail(const std::string& file) {
  try {
    cv::Mat rgb = decode_image(read_file_bytes(file), color_mode::rgb);
    const double scale = std::min(1.0, static_cast<double>(kThumbnailSide) / std::max(rgb.cols, rgb.rows));
    cv::Mat small;
    cv::resize(rgb, small, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_NEAREST);
    cv::cvtColor(small, small, cv::COLOR_RGB2BGR);
    std::vector<unsigned char> jpeg;
    cv::imencode(".jpg", small, jpeg, {cv::IMWRITE_JPEG_QUALITY, 80});
    return "data:image/jpeg;base64," + base64(jpeg);
  } catch (const std::exception&) {
    return "";
  }
}

std::string figure(const std::string& text, const std::string& alt) {
  const std::string uri = thumbnail(text);
  return uri.empty() ? "<span class=\"nothumb\">no preview</span>"
                     : "<img src=\"" + uri + "\" alt=\"" + escape(alt) + "\">";
}

const char* kStyle = R"(<style>
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #57606a; --line: #d0d7de; --panel: #f6f8fa;
  --a: #2f81f7; --b: #bf3989; --good: #1a7f37; --bad: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #30363d;
  --panel: #161b22; --a: #58a6ff; --b: #db61a2; --good: #3fb950; --bad: #f85149; } }
body { margin: 0 auto; max-width: 70em; padding: 1em 1.5em 3em; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: .7em; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .6em 1em; min-width: 8em; }
.card b { display: block; font-size: 1.5em; font-variant-numeric: tabular-nums; }
svg { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; fill: var(--fg); }
svg .grid { stroke: var(--line); } svg .a { fill: var(--a); } svg .b { fill: var(--b); }
svg .good { fill: var(--good); } svg .bad { fill: var(--bad); }
svg .decode { fill: #8250df; } svg .preprocess { fill: #bf3989; } svg .queue { fill: #bf8700; } svg .forward { fill: #1f883d; }
table { border-collapse: collapse; } td, th { text-align: left; padding: .2em .8em .2em 0; border-bottom: 1px solid var(--line); vertical-align: middle; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.thumbs { display: grid; grid-template-columns: repeat(auto-fill, minmax(9em, 1fr)); gap: .8em; }
.thumbs figure { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .4em; }
.thumbs img { display: block; max-width: 96px; max-height: 96px; margin: 0 auto .3em; image-rendering: auto; }
.thumbs figcaption { font-size: .8em; word-break: break-all; }
.nothumb { display: block; height: 3em; color: var(--muted); text-align: center; }
</style>)";

std::string page(const std::string& title, const std::string& body) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
         "<title>" + escape(title) + "</title>" + kStyle + "</head><body>\n<h1>" + escape(title) + "</h1>\n" + body +
         "</body></html>\n";
}

std::string card(const std::string& label, const std::string& value) {
  return "<div class=\"card\">" + escape(label) + "<b>" + escape(value) + "</b></div>";
}

// A histogram: `series` (class name, values) stacked in `bins` equal bins over [lo, hi].
std::string histogram(const std::string& name, const std::string& label,
                      const std::vector<std::pair<std::string, const std::vector<double>*>>& series, double lo, double hi,
                      const std::string& x_label, int bins = 20) {
  std::vector<std::vector<int>> counts(series.size(), std::vector<int>(bins, 0));
  int peak = 1;
  for (size_t s = 0; s < series.size(); ++s)
    for (const double v : *series[s].second) {
      if (!std::isfinite(v)) continue;
      const int bin = std::clamp(static_cast<int>((v - lo) / (hi - lo) * bins), 0, bins - 1);
      ++counts[s][bin];
    }
  for (int bin = 0; bin < bins; ++bin) {
    int total = 0;
    for (const auto& c : counts) total += c[bin];
    peak = std::max(peak, total);
  }
  const int width = 660, height = 220, left = 40, bottom = 30, top = 10;
  const double bar = static_cast<double>(width - left - 30) / bins;
  std::ostringstream svg;
  svg << "<svg data-chart=\"" << name << "\" role=\"img\" aria-label=\"" << escape(label) << "\" viewBox=\"0 0 " << width
      << " " << height << "\" width=\"" << width << "\">";
  for (int tick = 0; tick <= 4; ++tick) {
    const double y = top + (height - top - bottom) * (1 - tick / 4.0);
    svg << "<line class=\"grid\" x1=\"" << left << "\" x2=\"" << width - 10 << "\" y1=\"" << y << "\" y2=\"" << y << "\"/>"
        << "<text x=\"" << left - 4 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">" << std::lround(peak * tick / 4.0)
        << "</text>";
  }
  for (int bin = 0; bin < bins; ++bin) {
    double stacked = 0;
    for (size_t s = 0; s < series.size(); ++s) {
      if (!counts[s][bin]) continue;
      const double h = (height - top - bottom) * static_cast<double>(counts[s][bin]) / peak;
      const double y = height - bottom - stacked - h;
      svg << "<rect class=\"" << series[s].first << "\" x=\"" << left + bin * bar + 1 << "\" y=\"" << y << "\" width=\""
          << bar - 2 << "\" height=\"" << h << "\"><title>" << counts[s][bin] << "</title></rect>";
      stacked += h;
    }
  }
  for (int tick = 0; tick <= 4; ++tick)
    svg << "<text x=\"" << left + (width - left - 30) * tick / 4.0 << "\" y=\"" << height - bottom + 14
        << "\" text-anchor=\"middle\">" << format_fixed(lo + (hi - lo) * tick / 4.0, 2) << "</text>";
  svg << "<text x=\"" << (left + width) / 2 << "\" y=\"" << height - 2 << "\" text-anchor=\"middle\">" << escape(x_label)
      << "</text></svg>";
  return svg.str();
}

std::string class_bars(const evaluation& e) {
  const size_t shown = std::min<size_t>(e.classes.size(), 60);
  const int row = 18, left = 160, width = 640;
  const int height = static_cast<int>(shown) * row * 2 / 2 + 30;
  std::ostringstream svg;
  svg << "<svg data-chart=\"per-class\" role=\"img\" aria-label=\"precision and recall per class\" viewBox=\"0 0 "
      << width << " " << height << "\" width=\"" << width << "\">";
  const double scale = width - left - 50;
  for (size_t i = 0; i < shown; ++i) {
    const auto& c = e.classes[i];
    const double y = 20 + static_cast<double>(i) * row;
    svg << "<text x=\"" << left - 6 << "\" y=\"" << y + 11 << "\" text-anchor=\"end\">" << escape(c.name.substr(0, 28))
        << "</text>";
    const double p = std::isnan(c.precision()) ? 0 : c.precision();
    const double r = std::isnan(c.recall()) ? 0 : c.recall();
    svg << "<rect class=\"a\" x=\"" << left << "\" y=\"" << y + 1 << "\" width=\"" << p * scale
        << "\" height=\"7\"><title>precision " << format_fixed(c.precision()) << "</title></rect>"
        << "<rect class=\"b\" x=\"" << left << "\" y=\"" << y + 8 << "\" width=\"" << r * scale
        << "\" height=\"7\"><title>recall " << format_fixed(c.recall()) << " (" << c.correct << "/" << c.support
        << ")</title></rect>"
        << "<text x=\"" << left + scale + 4 << "\" y=\"" << y + 11 << "\">" << format_fixed(c.recall(), 2) << "</text>";
  }
  svg << "<rect class=\"a\" x=\"" << left << "\" y=\"2\" width=\"10\" height=\"8\"/><text x=\"" << left + 14
      << "\" y=\"10\">precision</text><rect class=\"b\" x=\"" << left + 90
      << "\" y=\"2\" width=\"10\" height=\"8\"/><text x=\"" << left + 104 << "\" y=\"10\">recall</text></svg>";
  return svg.str();
}

std::string confusion_heatmap(const evaluation& e) {
  const size_t n = std::min<size_t>(e.classes.size(), 40);
  const int cell = n <= 12 ? 34 : n <= 25 ? 20 : 14, left = 150, top = 90;
  const int size = left + static_cast<int>(n + 1) * cell + 10;
  std::ostringstream svg;
  svg << "<svg data-chart=\"confusion\" role=\"img\" aria-label=\"confusion matrix: rows truth, columns top-1\" viewBox=\"0 0 "
      << size << " " << top + static_cast<int>(n) * cell + 10 << "\" width=\"" << size << "\">";
  for (size_t j = 0; j <= n; ++j) {
    const std::string name = j < n ? e.classes[j].name.substr(0, 16) : "other";
    const double x = left + static_cast<double>(j) * cell + cell / 2.0;
    svg << "<text transform=\"translate(" << x << "," << top - 6 << ") rotate(-55)\">" << escape(name) << "</text>";
  }
  for (size_t i = 0; i < n; ++i) {
    const double y = top + static_cast<double>(i) * cell;
    int64_t row_total = 0;
    for (const auto v : e.confusion[i]) row_total += v;
    svg << "<text x=\"" << left - 6 << "\" y=\"" << y + cell / 2.0 + 4 << "\" text-anchor=\"end\">"
        << escape(e.classes[i].name.substr(0, 22)) << "</text>";
    for (size_t j = 0; j <= n; ++j) {
      const int64_t v = j < n ? e.confusion[i][j] : e.confusion[i].back();
      const double share = row_total ? static_cast<double>(v) / static_cast<double>(row_total) : 0;
      // Blue for the diagonal (right), red elsewhere (wrong); stronger for a larger share of the row.
      const char* hue = i == j ? "47,129,247" : "207,34,46";
      svg << "<rect x=\"" << left + static_cast<double>(j) * cell << "\" y=\"" << y << "\" width=\"" << cell - 1
          << "\" height=\"" << cell - 1 << "\" fill=\"rgba(" << hue << "," << (v ? 0.12 + 0.88 * share : 0.04)
          << ")\"><title>" << escape(e.classes[i].name) << " as " << escape(j < n ? e.classes[j].name : "other") << ": "
          << v << "</title></rect>";
      if (v && cell >= 20)
        svg << "<text x=\"" << left + static_cast<double>(j) * cell + cell / 2.0 << "\" y=\"" << y + cell / 2.0 + 4
            << "\" text-anchor=\"middle\">" << v << "</text>";
    }
  }
  svg << "</svg>";
  return svg.str();
}

// Records written per second over the run: a line over `buckets` equal slices of time.
std::string throughput_chart(const run_trace& trace) {
  const int buckets = 40, width = 660, height = 200, left = 50, bottom = 30, top = 10;
  const double span = std::max(trace.seconds, 1e-3);
  std::vector<double> rate(buckets, 0);
  for (const auto& t : trace.inputs)
    rate[std::clamp(static_cast<int>(t.written_s / span * buckets), 0, buckets - 1)] += buckets / span;
  const double peak = std::max(1.0, *std::max_element(rate.begin(), rate.end()));
  std::ostringstream svg;
  svg << "<svg data-chart=\"throughput\" role=\"img\" aria-label=\"inputs scored per second over the run\" viewBox=\"0 0 "
      << width << " " << height << "\" width=\"" << width << "\">";
  for (int tick = 0; tick <= 4; ++tick) {
    const double y = top + (height - top - bottom) * (1 - tick / 4.0);
    svg << "<line class=\"grid\" x1=\"" << left << "\" x2=\"" << width - 10 << "\" y1=\"" << y << "\" y2=\"" << y
        << "\"/><text x=\"" << left - 4 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">" << std::lround(peak * tick / 4.0)
        << "</text>";
  }
  const double step = static_cast<double>(width - left - 10) / buckets;
  for (int b = 0; b < buckets; ++b) {
    const double h = (height - top - bottom) * rate[b] / peak;
    svg << "<rect class=\"a\" x=\"" << left + b * step << "\" y=\"" << height - bottom - h << "\" width=\"" << step - 1
        << "\" height=\"" << h << "\"><title>" << format_fixed(rate[b], 0) << " inputs/s</title></rect>";
  }
  for (int tick = 0; tick <= 4; ++tick)
    svg << "<text x=\"" << left + (width - left - 10) * tick / 4.0 << "\" y=\"" << height - bottom + 14
        << "\" text-anchor=\"middle\">" << format_fixed(span * tick / 4.0, 1) << "</text>";
  svg << "<text x=\"" << (left + width) / 2 << "\" y=\"" << height - 2 << "\" text-anchor=\"middle\">seconds into the run (inputs/s)</text></svg>";
  return svg.str();
}

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())))];
}

// Mean time per stage as one stacked bar, and p50 / p99 per stage as a table.
std::string time_split(const run_trace& trace) {
  const char* names[] = {"decode", "preprocess", "queue", "forward"};
  std::vector<double> stage[4];
  for (const auto& t : trace.inputs) {
    if (!t.error.empty()) continue;
    stage[0].push_back(t.decode_ms);
    stage[1].push_back(t.preprocess_ms);
    stage[2].push_back(t.queue_ms);
    stage[3].push_back(t.forward_ms);
  }
  double mean[4] = {}, sum = 0;
  for (int s = 0; s < 4; ++s) {
    for (const double v : stage[s]) mean[s] += v;
    if (!stage[s].empty()) mean[s] /= static_cast<double>(stage[s].size());
    sum += mean[s];
  }
  const int width = 660;
  std::ostringstream svg;
  svg << "<svg data-chart=\"time-split\" role=\"img\" aria-label=\"mean time per input by stage\" viewBox=\"0 0 " << width
      << " 56\" width=\"" << width << "\">";
  double x = 0;
  for (int s = 0; s < 4; ++s) {
    const double w = sum > 0 ? (width - 2) * mean[s] / sum : 0;
    svg << "<rect class=\"" << names[s] << "\" x=\"" << x << "\" y=\"0\" width=\"" << w << "\" height=\"22\"><title>"
        << names[s] << " " << format_fixed(mean[s], 2) << " ms</title></rect>";
    svg << "<rect class=\"" << names[s] << "\" x=\"" << s * 160 << "\" y=\"34\" width=\"10\" height=\"10\"/><text x=\""
        << s * 160 + 14 << "\" y=\"43\">" << names[s] << " " << format_fixed(mean[s], 2) << " ms</text>";
    x += w;
  }
  svg << "</svg><table><tr><th>stage (ms per input)</th><th>mean</th><th>p50</th><th>p99</th></tr>";
  for (int s = 0; s < 4; ++s)
    svg << "<tr><td>" << names[s] << "</td><td class=\"n\">" << format_fixed(mean[s], 2) << "</td><td class=\"n\">"
        << format_fixed(percentile(stage[s], 0.5), 2) << "</td><td class=\"n\">" << format_fixed(percentile(stage[s], 0.99), 2) << "</td></tr>";
  svg << "</table><p class=\"muted\">queue: from preprocessed to the start of its forward (waiting for its batch, in "
         "input order, and for a lane); forward: the batch's forward, shared by its inputs.</p>";
  return svg.str();
}

}  // namespace

std::string run_report(const run_trace& trace, const std::string& title) {
  size_t failed = 0;
  std::vector<double> scores;
  for (const auto& t : trace.inputs) {
    if (!t.error.empty()) ++failed;
    if (t.has_score) scores.push_back(t.top1_score);
  }
  std::ostringstream body;
  body << "<p class=\"muted\">Model " << escape(trace.model) << "; " << trace.lanes << (trace.lanes == 1 ? " lane" : " lanes")
       << ", batches of " << trace.batch_size << ", " << trace.workers << " preprocessing workers.</p>\n<div class=\"cards\">"
       << card("inputs", std::to_string(trace.inputs.size())) << card("failed", std::to_string(failed))
       << card("seconds", format_fixed(trace.seconds, 2))
       << card("inputs/s", format_fixed(trace.seconds > 0 ? static_cast<double>(trace.inputs.size()) / trace.seconds : 0, 1))
       << "</div>\n<h2>Throughput over time</h2>" << throughput_chart(trace) << "\n<h2>Where the time went</h2>"
       << time_split(trace) << "\n";
  if (!scores.empty())
    body << "<h2>Top-1 scores</h2>" << histogram("scores", "histogram of top-1 scores", {{"a", &scores}}, 0, 1, "top-1 score");
  std::vector<const input_timing*> slowest;
  for (const auto& t : trace.inputs)
    if (t.error.empty()) slowest.push_back(&t);
  const size_t shown = std::min<size_t>(slowest.size(), 12);
  std::partial_sort(slowest.begin(), slowest.begin() + static_cast<std::ptrdiff_t>(shown), slowest.end(),
                    [](const input_timing* a, const input_timing* b) { return a->total_ms() > b->total_ms(); });
  body << "<h2>Slowest inputs</h2><div class=\"thumbs\">";
  for (size_t i = 0; i < shown; ++i) {
    const auto& t = *slowest[i];
    body << "<figure>" << figure(t.file, t.file) << "<figcaption><b>" << format_fixed(t.total_ms(), 1) << " ms</b>: decode "
         << format_fixed(t.decode_ms, 1) << ", preprocess " << format_fixed(t.preprocess_ms, 1) << ", queue " << format_fixed(t.queue_ms, 1)
         << ", forward " << format_fixed(t.forward_ms, 1) << "<br><span class=\"muted\">" << escape(t.file) << "</span></figcaption></figure>";
  }
  body << "</div>\n<h2>Errors (" << failed << ")</h2>";
  if (failed) {
    body << "<table><tr><th>input</th><th>error</th></tr>";
    size_t listed = 0;
    for (const auto& t : trace.inputs)
      if (!t.error.empty() && listed++ < kMaxRows)
        body << "<tr><td>" << escape(t.file) << "</td><td>" << escape(t.error) << "</td></tr>";
    body << "</table>";
  }
  return page(title, body.str());
}

std::string evaluation_report(const evaluation& e, const std::string& title) {
  std::ostringstream body;
  body << "<p class=\"muted\">Ground truth: " << escape(e.truth_source) << " (" << e.classes.size()
       << " classes, matched by " << escape(e.matched_by) << ").</p>\n<div class=\"cards\">"
       << card("top-1", format_fixed(e.top1())) << card("top-5" + std::string(e.top5_depth < 5 ? " (of " + std::to_string(e.top5_depth) + ")" : ""), format_fixed(e.top5()))
       << card("scored", std::to_string(e.scored)) << card("misclassified", std::to_string(e.misclassified.size()))
       << card("errors", std::to_string(e.errors)) << card("missing", std::to_string(e.missing)) << "</div>\n";
  std::vector<double> correct(e.correct_scores.begin(), e.correct_scores.end());
  std::vector<double> wrong(e.wrong_scores.begin(), e.wrong_scores.end());
  body << "<h2>Top-1 scores</h2><p class=\"muted\">Right answers in green, wrong ones in red.</p>"
       << histogram("scores", "histogram of top-1 scores, right and wrong", {{"good", &correct}, {"bad", &wrong}}, 0, 1,
                    "top-1 score")
       << "\n<h2>Per class</h2>" << class_bars(e);
  if (e.classes.size() > 60) body << "<p class=\"muted\">The first 60 of " << e.classes.size() << " classes.</p>";
  body << "\n<h2>Confusion matrix</h2><p class=\"muted\">Rows: the truth; columns: the top-1 answer; colour: share of the row.</p>"
       << confusion_heatmap(e) << "\n";
  body << "<h2>Misclassified (" << e.misclassified.size() << ")</h2><div class=\"thumbs\">";
  for (size_t i = 0; i < e.misclassified.size() && i < kMaxThumbnails; ++i) {
    const auto& m = e.misclassified[i];
    body << "<figure>" << figure(m.file, m.truth + " read as " + m.predicted) << "<figcaption><b>" << escape(m.predicted)
         << "</b> " << format_fixed(m.score, 3) << ", truth <b>" << escape(m.truth) << "</b><br><span class=\"muted\">"
         << escape(m.file) << "</span></figcaption></figure>";
  }
  body << "</div>";
  if (e.misclassified.size() > kMaxThumbnails) body << "<p class=\"muted\">The first " << kMaxThumbnails << " shown.</p>";
  body << "\n<h2>Errors (" << e.failures.size() << ")</h2>";
  if (!e.failures.empty()) {
    body << "<table><tr><th>input</th><th>error</th></tr>";
    for (size_t i = 0; i < e.failures.size() && i < kMaxRows; ++i)
      body << "<tr><td>" << escape(e.failures[i].file) << "</td><td>" << escape(e.failures[i].error) << "</td></tr>";
    body << "</table>";
  }
  return page(title, body.str());
}

std::string comparison_report(const comparison& c, const std::string& title) {
  std::ostringstream body;
  body << "<p class=\"muted\">A: " << escape(c.a_source) << "<br>B: " << escape(c.b_source) << "</p>\n<div class=\"cards\">"
       << card("top-1 agreement", c.common ? format_fixed(c.agreement()) : "-") << card("flipped", std::to_string(c.flips.size()))
       << card("inputs in both", std::to_string(c.common)) << card("largest score diff", format_fixed(c.max_score_diff, 6))
       << card("mean score diff", format_fixed(c.mean_score_diff, 6)) << card("only in A", std::to_string(c.only_in_a.size()))
       << card("only in B", std::to_string(c.only_in_b.size())) << "</div>\n";
  // Differences span decades (1e-7 from float noise to 1 for a flip): bins of log10.
  std::vector<double> logs;
  for (const double d : c.score_diffs) logs.push_back(std::log10(std::max(d, 1e-9)));
  body << "<h2>Score differences</h2><p class=\"muted\">Per input, the largest difference of a class both list, on a "
          "log scale (-9: none).</p>"
       << histogram("score-diffs", "histogram of per-input score differences, log10", {{"a", &logs}}, -9, 0,
                    "log10 |score A - score B|", 18);
  body << "\n<h2>Flipped (" << c.flips.size() << ")</h2><div class=\"thumbs\">";
  for (size_t i = 0; i < c.flips.size() && i < kMaxThumbnails; ++i) {
    const auto& f = c.flips[i];
    const auto name = [](const prediction& p) { return p.label.empty() ? "#" + std::to_string(p.index) : p.label; };
    body << "<figure>" << figure(f.file, name(f.a) + " became " + name(f.b)) << "<figcaption>A <b>" << escape(name(f.a))
         << "</b> " << format_fixed(f.a.score, 3) << "<br>B <b>" << escape(name(f.b)) << "</b> " << format_fixed(f.b.score, 3)
         << "<br><span class=\"muted\">" << escape(f.file) << "</span></figcaption></figure>";
  }
  body << "</div>";
  if (c.flips.size() > kMaxThumbnails) body << "<p class=\"muted\">The first " << kMaxThumbnails << " shown.</p>";
  const auto list = [&](const std::string& heading, const std::vector<std::string>& files) {
    body << "<h2>" << heading << " (" << files.size() << ")</h2>";
    if (files.empty()) return;
    body << "<table>";
    for (size_t i = 0; i < files.size() && i < kMaxRows; ++i) body << "<tr><td>" << escape(files[i]) << "</td></tr>";
    body << "</table>";
  };
  body << "<h2>An error in one file only (" << c.error_in_one.size() << ")</h2>";
  if (!c.error_in_one.empty()) {
    body << "<table><tr><th>input</th><th>in</th><th>error</th></tr>";
    for (size_t i = 0; i < c.error_in_one.size() && i < kMaxRows; ++i)
      body << "<tr><td>" << escape(c.error_in_one[i].file) << "</td><td>" << (c.error_in_one[i].in_a ? "A" : "B")
           << "</td><td>" << escape(c.error_in_one[i].error) << "</td></tr>";
    body << "</table>";
  }
  list("Only in A", c.only_in_a);
  list("Only in B", c.only_in_b);
  return page(title, body.str());
}

void write_report(const std::string& path, const std::string& html) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << html;
  if (!out.flush()) throw error(error_code::invalid_config, "cannot write the report '" + path + "'");
}

}  // namespace ptjs
