// `ptjs compare`: two record files for the same inputs (old model against new, TorchScript
// against .pt2, one build against another). No libtorch here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "postprocess.h"

namespace ptjs {

struct comparison {
  std::string a_source, b_source;
  int64_t common = 0;  // inputs with predictions in both
  int64_t agree = 0;   // ... whose top-1 class is the same
  int64_t errors_a = 0, errors_b = 0;  // error records (an input failing in one only is listed)
  struct flip {
    std::string file;
    prediction a, b;  // each side's top-1
  };
  std::vector<flip> flips;  // in A's order
  struct one_sided_error {
    std::string file, error;
    bool in_a = true;
  };
  std::vector<one_sided_error> error_in_one;
  // Score difference of an input: the largest |score A - score B| over the classes both list.
  double max_score_diff = 0;
  std::string max_score_diff_file;
  double mean_score_diff = 0;
  std::vector<double> score_diffs;  // per common input, for the report's histogram
  std::vector<std::string> only_in_a, only_in_b;

  double agreement() const;
};

// Matches records by input (the same path in both, compared as absolute normal paths); a class
// is the same when its index is (labels may differ between the two files).
comparison compare_records(const std::vector<record>& a, const std::vector<record>& b, std::string a_source,
                           std::string b_source);

std::string comparison_text(const comparison& c, size_t max_listed = 20);
std::string comparison_json(const comparison& c);

// --max-flips: "N" (inputs) or "P%" (of the inputs in both). Throws ptjs::error(invalid_config).
struct flip_limit {
  double value = 0;
  bool percent = false;
  bool exceeded_by(const comparison& c) const;
  std::string text() const;
};
flip_limit parse_flip_limit(const std::string& text);

}  // namespace ptjs
