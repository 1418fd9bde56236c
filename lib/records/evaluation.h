// `ptjs eval`: scoring records against ground truth (top-1/top-5 accuracy, per-class precision
// and recall, the confusion matrix). No libtorch here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "postprocess.h"

namespace ptjs {

// Which class each input is.
struct ground_truth {
  std::string source;                          // the folder or CSV, for messages
  std::vector<std::string> classes;            // class names in index order
  std::map<std::string, std::string> class_of; // input (normalised path) -> class name
  bool numeric = false;                        // CSV labels that are all class indices
};

// torchvision's ImageFolder layout: DIR/<class>/.../image; classes are the sub-folders of DIR
// sorted by name, as ImageFolder sorts them (their index is the class index).
ground_truth ground_truth_from_folder(const std::string& dir, const std::vector<std::string>& files);
// A CSV `file,label` (a header row `file,label` is optional); labels are class names or indices.
ground_truth ground_truth_from_csv(const std::string& path);

// How an input is named for matching records with ground truth: its absolute, normal path.
std::string input_key(const std::string& file);

struct class_stats {
  std::string name;
  int64_t support = 0;    // inputs of this class
  int64_t predicted = 0;  // inputs whose top-1 is this class
  int64_t correct = 0;
  double precision() const;  // NaN when nothing was predicted as this class
  double recall() const;     // NaN without support
};

struct evaluation {
  std::string truth_source;
  std::string matched_by;          // "labels" or "class index"
  int64_t scored = 0;              // records with predictions and ground truth
  int64_t errors = 0;              // error records (counted apart from accuracy)
  int64_t missing = 0;             // inputs of the ground truth without a record
  int64_t unlabelled = 0;          // records without ground truth
  int64_t top1_correct = 0;
  int64_t top5_correct = 0;
  int top5_depth = 5;              // predictions per record top-5 could look at (fewer when TopK < 5)
  std::vector<class_stats> classes;
  std::vector<std::vector<int64_t>> confusion;  // [truth][top-1]; the last column: outside the classes

  struct miss {
    std::string file, truth, predicted;
    float score = 0;
  };
  struct failure {
    std::string file, error;
  };
  std::vector<miss> misclassified;  // in record order
  std::vector<failure> failures;
  std::vector<float> correct_scores;  // top-1 scores, for the report's histogram
  std::vector<float> wrong_scores;

  double top1() const;
  double top5() const;
};

// Scores `records` against `truth`. A prediction's class is matched by name when every class
// of the truth is one of the labels (`labels`, else those the records carry); otherwise by
// index, in the truth's class order (what a model trained on an ImageFolder outputs).
// Throws ptjs::error(invalid_config) when records hold no predictions (a Raw spec).
evaluation evaluate(const std::vector<record>& records, const ground_truth& truth,
                    const std::vector<std::string>& labels);

std::string evaluation_text(const evaluation& e);
std::string evaluation_json(const evaluation& e);

}  // namespace ptjs
