#include "evaluation.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "error.h"
#include "sinks.h"
#include "record_reader.h"

namespace ptjs {
namespace {

namespace fs = std::filesystem;

bool is_index(const std::string& text) {
  return !text.empty() && text.size() < 10 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

double ratio(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

std::string input_key(const std::string& file) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(file, ec);
  return (ec ? fs::path(file) : absolute).lexically_normal().string();
}

ground_truth ground_truth_from_folder(const std::string& dir, const std::vector<std::string>& files) {
  ground_truth truth;
  truth.source = dir;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory()) truth.classes.push_back(entry.path().filename().string());
  if (ec) throw error(error_code::invalid_config, "cannot list the folder '" + dir + "': " + ec.message());
  std::sort(truth.classes.begin(), truth.classes.end());
  if (truth.classes.empty())
    throw error(error_code::invalid_config, "'" + dir + "' has no class folders: ground truth from a folder is " +
                                                "torchvision's ImageFolder layout, DIR/<class>/<image>");
  const std::string root = input_key(dir);
  for (const auto& file : files) {
    const std::string key = input_key(file);
    const fs::path relative = fs::path(key).lexically_relative(root);
    auto part = relative.begin();
    if (relative.empty() || part == relative.end() || *part == ".." || std::next(part) == relative.end())
      continue;  // not inside a class folder
    truth.class_of[key] = part->string();
  }
  return truth;
}

ground_truth ground_truth_from_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(error_code::invalid_config, "cannot read the ground truth '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  ground_truth truth;
  truth.source = path;
  std::set<std::string> names;
  const auto rows = parse_csv(buffer.str());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (row.empty() || (row.size() == 1 && row[0].empty())) continue;
    if (i == 0 && row.size() == 2 && row[0] == "file" && row[1] == "label") continue;
    if (row.size() != 2 || row[0].empty() || row[1].empty())
      throw error(error_code::invalid_config, path + ":" + std::to_string(i + 1) + ": expected `file,label`");
    truth.class_of[input_key(row[0])] = row[1];
    names.insert(row[1]);
  }
  if (truth.class_of.empty()) throw error(error_code::invalid_config, path + ": no `file,label` rows");
  truth.numeric = std::all_of(names.begin(), names.end(), is_index);
  truth.classes.assign(names.begin(), names.end());
  if (truth.numeric)
    std::sort(truth.classes.begin(), truth.classes.end(),
              [](const std::string& a, const std::string& b) { return std::stoll(a) < std::stoll(b); });
  return truth;
}

double class_stats::precision() const { return ratio(correct, predicted); }
double class_stats::recall() const { return ratio(correct, support); }
double evaluation::top1() const { return ratio(top1_correct, scored); }
double evaluation::top5() const { return ratio(top5_correct, scored); }

evaluation evaluate(const std::vector<record>& records, const ground_truth& truth, const std::vector<std::string>& labels) {
  evaluation e;
  e.truth_source = truth.source;

  // Match by name when the model's labels name every class of the truth.
  std::set<std::string> vocabulary(labels.begin(), labels.end());
  if (vocabulary.empty())
    for (const auto& r : records)
      for (const auto& p : r.predictions)
        if (!p.label.empty()) vocabulary.insert(p.label);
  std::set<std::string> used;
  for (const auto& [file, name] : truth.class_of) used.insert(name);
  const bool by_name = !vocabulary.empty() &&
                       std::all_of(used.begin(), used.end(), [&](const std::string& c) { return vocabulary.count(c) > 0; });
  e.matched_by = by_name ? "labels" : "class index";
  const auto class_name = [&](const prediction& p) -> std::string {
    if (by_name) {
      if (!p.label.empty()) return p.label;
      if (p.index >= 0 && static_cast<size_t>(p.index) < labels.size()) return labels[static_cast<size_t>(p.index)];
    } else if (truth.numeric) {
      return std::to_string(p.index);
    } else if (p.index >= 0 && static_cast<size_t>(p.index) < truth.classes.size()) {
      return truth.classes[static_cast<size_t>(p.index)];
    }
    return "#" + std::to_string(p.index);
  };

  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < truth.classes.size(); ++i) {
    index_of[truth.classes[i]] = i;
    e.classes.push_back({truth.classes[i]});
  }
  e.confusion.assign(truth.classes.size(), std::vector<int64_t>(truth.classes.size() + 1, 0));

  std::set<std::string> seen;
  int64_t without_predictions = 0;
  int depth = std::numeric_limits<int>::max();
  for (const auto& r : records) {
    if (r.failed()) {
      ++e.errors;
      e.failures.push_back({r.file, r.error});
      seen.insert(input_key(r.file));
      continue;
    }
    const std::string key = input_key(r.file);
    const auto it = truth.class_of.find(key);
    if (it == truth.class_of.end()) {
      ++e.unlabelled;
      continue;
    }
    seen.insert(key);
    if (r.predictions.empty()) {
      ++without_predictions;
      continue;
    }
    depth = std::min(depth, static_cast<int>(r.predictions.size()));
    ++e.scored;
    const size_t t = index_of.at(it->second);
    const std::string top = class_name(r.predictions[0]);
    ++e.classes[t].support;
    const auto predicted = index_of.find(top);
    ++e.confusion[t][predicted == index_of.end() ? truth.classes.size() : predicted->second];
    if (predicted != index_of.end()) ++e.classes[predicted->second].predicted;
    if (top == it->second) {
      ++e.top1_correct;
      ++e.classes[t].correct;
      e.correct_scores.push_back(r.predictions[0].score);
    } else {
      e.misclassified.push_back({r.file, it->second, top, r.predictions[0].score});
      e.wrong_scores.push_back(r.predictions[0].score);
    }
    for (size_t k = 0; k < r.predictions.size() && k < 5; ++k)
      if (class_name(r.predictions[k]) == it->second) {
        ++e.top5_correct;
        break;
      }
  }
  if (e.scored == 0 && without_predictions > 0)
    throw error(error_code::invalid_config, "the records hold no predictions (a Raw spec?): eval needs TopK or Argmax");
  e.top5_depth = depth == std::numeric_limits<int>::max() ? 5 : std::min(depth, 5);
  for (const auto& [key, name] : truth.class_of)
    if (!seen.count(key)) ++e.missing;
  return e;
}

std::string evaluation_text(const evaluation& e) {
  std::ostringstream out;
  out << "ground truth: " << e.truth_source << " (" << e.classes.size() << " classes, matched by " << e.matched_by
      << ")\n";
  out << "scored " << e.scored << ", errors " << e.errors << " (counted apart), missing " << e.missing
      << ", without ground truth " << e.unlabelled << "\n";
  out << "top-1 " << format_fixed(e.top1()) << " (" << e.top1_correct << "/" << e.scored << ")   top-5 " << format_fixed(e.top5())
      << " (" << e.top5_correct << "/" << e.scored << ")";
  if (e.top5_depth < 5) out << "   [records hold " << e.top5_depth << " predictions: top-5 looks at those]";
  out << "\n\n";
  size_t width = 5;
  for (const auto& c : e.classes) width = std::max(width, c.name.size());
  width = std::min<size_t>(width, 40);
  const auto pad = [&](const std::string& text, size_t w) {
    return text.size() >= w ? text.substr(0, w) : text + std::string(w - text.size(), ' ');
  };
  out << pad("class", width) << "  precision  recall  support\n";
  for (const auto& c : e.classes)
    out << pad(c.name, width) << "  " << pad(format_fixed(c.precision()), 9) << "  " << pad(format_fixed(c.recall()), 6) << "  "
        << c.support << "\n";
  // The confusion matrix: rows are the truth, columns the top-1 class by index (up to 30 classes).
  if (!e.classes.empty() && e.classes.size() <= 30) {
    out << "\nconfusion (rows: truth; columns: top-1, by class number; '+': outside the classes)\n";
    size_t cell = 3;
    for (const auto& row : e.confusion)
      for (const auto v : row) cell = std::max(cell, std::to_string(v).size() + 1);
    out << pad("", width + 4);
    for (size_t j = 0; j < e.classes.size(); ++j) {
      const std::string head = std::to_string(j);
      out << std::string(cell - head.size(), ' ') << head;
    }
    out << std::string(cell - 1, ' ') << "+\n";
    for (size_t i = 0; i < e.confusion.size(); ++i) {
      const std::string head = std::to_string(i);
      out << pad(e.classes[i].name, width) << std::string(4 - std::min<size_t>(head.size(), 3), ' ') << head;
      for (const auto v : e.confusion[i]) {
        const std::string text = v ? std::to_string(v) : ".";
        out << std::string(cell - text.size(), ' ') << text;
      }
      out << "\n";
    }
  }
  return out.str();
}

std::string evaluation_json(const evaluation& e) {
  using json = nlohmann::ordered_json;
  const auto number = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };
  json classes = json::array();
  for (const auto& c : e.classes)
    classes.push_back({{"name", c.name}, {"precision", number(c.precision())}, {"recall", number(c.recall())},
                       {"support", c.support}, {"predicted", c.predicted}});
  json misclassified = json::array();
  for (const auto& m : e.misclassified)
    misclassified.push_back({{"file", m.file}, {"truth", m.truth}, {"predicted", m.predicted}, {"score", m.score}});
  json failures = json::array();
  for (const auto& f : e.failures) failures.push_back({{"file", f.file}, {"error", f.error}});
  const json out = {{"ground_truth", e.truth_source},
                    {"matched_by", e.matched_by},
                    {"scored", e.scored},
                    {"errors", e.errors},
                    {"missing", e.missing},
                    {"without_ground_truth", e.unlabelled},
                    {"top1", number(e.top1())},
                    {"top5", number(e.top5())},
                    {"top5_depth", e.top5_depth},
                    {"classes", classes},
                    {"confusion", e.confusion},
                    {"misclassified", misclassified},
                    {"failures", failures}};
  return out.dump(1) + "\n";
}

}  // namespace ptjs
