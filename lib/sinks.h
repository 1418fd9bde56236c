// Writing records: JSONL and CSV (RFC 4180), whole lines at a time. No libtorch here.
#pragma once

#include <string>
#include <vector>

#include "postprocess.h"

namespace ptjs {

// JSON string literal (with quotes); invalid UTF-8 bytes become U+FFFD. Non-finite numbers
// are written as null in JSON (NaN, Infinity in CSV).
std::string json_quote(const std::string& text);
// Shortest text that reads back as the same float / double.
std::string format_float(float value);
std::string format_double(double value);
// `value` with `digits` decimals, for people ("0.9944"); "-" for NaN (a ratio of nothing).
std::string format_fixed(double value, int digits = 4);

// `{"name":..,"shape":[..],"datatype":..,"data":[..]}` as in KServe v2.
std::string tensor_to_json(const host_tensor& t);

// One JSONL line for a record, without the newline:
// {"file":..,"predictions":[{"index":3,"label":"three","score":0.981}]} | "outputs":[..] | "error":..
std::string record_to_json(const record& r);

// CSV rows `file,rank,index,label,score,error`, one per prediction, each ending in "\n".
std::string record_to_csv(const record& r);
std::string csv_header();
std::string csv_field(const std::string& text);

enum class output_format { jsonl, csv };

// Appends whole records to a file descriptor; each write() holds complete lines only, so a
// killed process leaves no partial record behind.
class record_writer {
 public:
  record_writer(int fd, output_format format, bool write_header);
  void write(const std::vector<record>& records);
  output_format format() const { return format_; }

 private:
  int fd_;
  output_format format_;
};

}  // namespace ptjs
