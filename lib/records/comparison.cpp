#include "comparison.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "error.h"
#include "sinks.h"
#include "evaluation.h"

namespace ptjs {
namespace {

std::string describe(const prediction& p) {
  return (p.label.empty() ? "#" + std::to_string(p.index) : p.label) + " " + format_fixed(p.score);
}

}  // namespace

double comparison::agreement() const {
  return common > 0 ? static_cast<double>(agree) / static_cast<double>(common) : std::nan("");
}

comparison compare_records(const std::vector<record>& a, const std::vector<record>& b, std::string a_source,
                           std::string b_source) {
  comparison c;
  c.a_source = std::move(a_source);
  c.b_source = std::move(b_source);
  std::map<std::string, const record*> in_b;
  for (const auto& r : b) {
    in_b[input_key(r.file)] = &r;
    if (r.failed()) ++c.errors_b;
  }
  std::map<std::string, bool> in_a;
  double sum = 0;
  for (const auto& ra : a) {
    if (ra.failed()) ++c.errors_a;
    const std::string key = input_key(ra.file);
    in_a[key] = true;
    const auto it = in_b.find(key);
    if (it == in_b.end()) {
      c.only_in_a.push_back(ra.file);
      continue;
    }
    const record& rb = *it->second;
    if (ra.failed() != rb.failed()) {
      c.error_in_one.push_back({ra.file, ra.failed() ? ra.error : rb.error, ra.failed()});
      continue;
    }
    if (ra.failed() || ra.predictions.empty() || rb.predictions.empty()) continue;
    ++c.common;
    if (ra.predictions[0].index == rb.predictions[0].index) ++c.agree;
    else c.flips.push_back({ra.file, ra.predictions[0], rb.predictions[0]});
    double diff = 0;
    for (const auto& pa : ra.predictions)
      for (const auto& pb : rb.predictions)
        if (pa.index == pb.index && std::isfinite(pa.score) && std::isfinite(pb.score))
          diff = std::max(diff, static_cast<double>(std::fabs(pa.score - pb.score)));
    c.score_diffs.push_back(diff);
    sum += diff;
    if (c.max_score_diff_file.empty() || diff > c.max_score_diff) {
      c.max_score_diff = diff;
      c.max_score_diff_file = ra.file;
    }
  }
  for (const auto& rb : b)
    if (!in_a.count(input_key(rb.file))) c.only_in_b.push_back(rb.file);
  c.mean_score_diff = c.common > 0 ? sum / static_cast<double>(c.common) : 0;
  return c;
}

std::string comparison_text(const comparison& c, size_t max_listed) {
  std::ostringstream out;
  out << "A: " << c.a_source << "\nB: " << c.b_source << "\n";
  out << "inputs in both: " << c.common << ", only in A: " << c.only_in_a.size() << ", only in B: " << c.only_in_b.size()
      << "; errors: A " << c.errors_a << ", B " << c.errors_b << "\n";
  out << "top-1 agreement " << (c.common ? format_fixed(c.agreement()) : std::string("-")) << " (" << c.agree << "/" << c.common
      << "), " << c.flips.size() << " flipped\n";
  out << "score difference: largest " << std::setprecision(3) << std::scientific << c.max_score_diff
      << (c.max_score_diff_file.empty() ? "" : " (" + c.max_score_diff_file + ")") << ", mean " << c.mean_score_diff
      << std::defaultfloat << "\n";
  const auto list = [&](const std::string& title, size_t count, const auto& line) {
    if (count == 0) return;
    out << "\n" << title << ":\n";
    for (size_t i = 0; i < count && i < max_listed; ++i) out << "  " << line(i) << "\n";
    if (count > max_listed) out << "  ... and " << count - max_listed << " more (--json lists every one)\n";
  };
  list("flipped (A -> B)", c.flips.size(),
       [&](size_t i) { return c.flips[i].file + ": " + describe(c.flips[i].a) + " -> " + describe(c.flips[i].b); });
  list("an error in one file only", c.error_in_one.size(), [&](size_t i) {
    return c.error_in_one[i].file + ": " + (c.error_in_one[i].in_a ? "A: " : "B: ") + c.error_in_one[i].error;
  });
  list("only in A", c.only_in_a.size(), [&](size_t i) { return c.only_in_a[i]; });
  list("only in B", c.only_in_b.size(), [&](size_t i) { return c.only_in_b[i]; });
  return out.str();
}

std::string comparison_json(const comparison& c) {
  using json = nlohmann::ordered_json;
  const auto pred = [](const prediction& p) {
    json out = {{"index", p.index}, {"score", p.score}};
    if (!p.label.empty()) out["label"] = p.label;
    return out;
  };
  json flips = json::array();
  for (const auto& f : c.flips) flips.push_back({{"file", f.file}, {"a", pred(f.a)}, {"b", pred(f.b)}});
  json one_sided = json::array();
  for (const auto& e : c.error_in_one) one_sided.push_back({{"file", e.file}, {"in", e.in_a ? "a" : "b"}, {"error", e.error}});
  const json out = {{"a", c.a_source},
                    {"b", c.b_source},
                    {"common", c.common},
                    {"agree", c.agree},
                    {"agreement", c.common ? json(c.agreement()) : json(nullptr)},
                    {"flips", flips},
                    {"max_score_diff", c.max_score_diff},
                    {"max_score_diff_file", c.max_score_diff_file},
                    {"mean_score_diff", c.mean_score_diff},
                    {"errors_a", c.errors_a},
                    {"errors_b", c.errors_b},
                    {"error_in_one", one_sided},
                    {"only_in_a", c.only_in_a},
                    {"only_in_b", c.only_in_b}};
  return out.dump(1) + "\n";
}

flip_limit parse_flip_limit(const std::string& text) {
  flip_limit limit;
  std::string number = text;
  if (!number.empty() && number.back() == '%') {
    limit.percent = true;
    number.pop_back();
  }
  try {
    size_t used = 0;
    limit.value = std::stod(number, &used);
    if (used != number.size() || limit.value < 0 || (limit.percent && limit.value > 100)) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw error(error_code::invalid_config, "--max-flips takes a count N or a percentage P% (0-100), got '" + text + "'");
  }
  return limit;
}

bool flip_limit::exceeded_by(const comparison& c) const {
  const double flips = static_cast<double>(c.flips.size());
  return percent ? (c.common > 0 && 100.0 * flips / static_cast<double>(c.common) > value) : flips > value;
}

std::string flip_limit::text() const {
  std::ostringstream out;
  out << value << (percent ? "%" : "");
  return out.str();
}

}  // namespace ptjs
