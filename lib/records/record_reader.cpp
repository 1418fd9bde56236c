#include "record_reader.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "error.h"

namespace ptjs {
namespace {

[[noreturn]] void fail(const std::string& path, size_t line, const std::string& what) {
  throw error(error_code::invalid_config, path + ":" + std::to_string(line) + ": " + what);
}

std::vector<record> read_jsonl(const std::string& path, const std::string& text) {
  std::vector<record> out;
  std::istringstream lines(text);
  std::string line;
  for (size_t number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto doc = nlohmann::json::parse(line, nullptr, false);
    if (!doc.is_object() || !doc.contains("file") || !doc["file"].is_string())
      fail(path, number, "not a record: a JSON object with a \"file\" string, as ptjs run writes");
    record r;
    r.file = doc["file"].get<std::string>();
    if (doc.contains("error")) r.error = doc["error"].is_string() ? doc["error"].get<std::string>() : doc["error"].dump();
    if (const auto it = doc.find("predictions"); it != doc.end()) {
      if (!it->is_array()) fail(path, number, "\"predictions\" must be a list");
      for (const auto& p : *it) {
        if (!p.is_object() || !p.contains("index") || !p["index"].is_number_integer())
          fail(path, number, "each prediction needs an integer \"index\"");
        prediction one;
        one.index = p["index"].get<int64_t>();
        if (p.contains("label") && p["label"].is_string()) one.label = p["label"].get<std::string>();
        // JSON writes NaN scores as null.
        one.score = p.contains("score") && p["score"].is_number() ? p["score"].get<float>() : std::nanf("");
        r.predictions.push_back(std::move(one));
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<record> read_csv(const std::string& path, const std::string& text) {
  std::vector<record> out;
  const auto rows = parse_csv(text);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (row.empty() || (row.size() == 1 && row[0].empty())) continue;
    if (row[0] == "file" && row.size() > 1 && row[1] == "rank") continue;  // a header, also in the middle of a `cat`
    if (row.size() != 6) fail(path, i + 1, "expected 6 fields (file,rank,index,label,score,error), got " + std::to_string(row.size()));
    const bool error_row = !row[5].empty();
    // A record starts with its rank-1 row (or its error row).
    if (error_row || row[1] == "1" || out.empty() || out.back().file != row[0]) out.emplace_back().file = row[0];
    record& r = out.back();
    if (error_row) {
      r.error = row[5];
      continue;
    }
    try {
      prediction p;
      p.index = std::stoll(row[2]);
      p.label = row[3];
      p.score = std::stof(row[4]);
      r.predictions.push_back(std::move(p));
    } catch (const std::exception&) {
      fail(path, i + 1, "index and score must be numbers, got '" + row[2] + "' and '" + row[4] + "'");
    }
  }
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  bool row_has_content = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    row_has_content = true;
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
      row_has_content = false;
    } else {
      field += c;
    }
  }
  if (row_has_content) {
    rows.back().push_back(std::move(field));
  } else {
    rows.pop_back();  // the text ends with a newline: no row after it
  }
  return rows;
}

std::vector<record> read_records(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(error_code::invalid_config, "cannot read records from '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const bool csv = text.rfind("file,rank,", 0) == 0 ||
                   (path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0);
  return csv ? read_csv(path, text) : read_jsonl(path, text);
}

}  // namespace ptjs
