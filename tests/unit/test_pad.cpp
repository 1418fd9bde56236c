// Pad against torchvision (PIL: ImageOps.expand / numpy.pad; tensors: torch pad).
#include "pad.h"

#include "testutil.h"

namespace ptjs {
namespace {

TEST(pad, matches_torchvision_exactly) { test::expect_group_matches_torchvision("pad"); }

TEST(pad, numpy_reflect_and_symmetric_wider_than_the_image) {
  cv::Mat m = (cv::Mat_<uchar>(1, 3) << 1, 2, 3);
  const auto row = [](const cv::Mat& r) { return std::vector<uchar>(r.begin<uchar>(), r.end<uchar>()); };
  EXPECT_EQ(row(pad_image(m, 5, 0, 5, 0, padding_mode::reflect, {})),
            (std::vector<uchar>{2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2}));
  EXPECT_EQ(row(pad_image(m, 5, 0, 5, 0, padding_mode::symmetric, {})),
            (std::vector<uchar>{2, 3, 3, 2, 1, 1, 2, 3, 3, 2, 1, 1, 2}));
  EXPECT_EQ(row(pad_image(m, 2, 0, -1, 0, padding_mode::edge, {})), (std::vector<uchar>{1, 1, 1, 2}));
  EXPECT_EQ(row(pad_image(m, -1, 0, 1, 0, padding_mode::constant, {9})), (std::vector<uchar>{2, 3, 9}));
}

TEST(pad, repr_and_argument_errors) {
  transform_args a("x.yaml", "Pad", YAML::Load("{padding: [1, 2], fill: [1, 2, 3], padding_mode: edge}"),
                   YAML::Mark());
  EXPECT_EQ(pad::from_args(a)->repr(), "Pad(padding=[1, 2], fill=[1, 2, 3], padding_mode=edge)");
  EXPECT_EQ(test::pipeline_error("preprocess:\n  - Pad: {padding: [1, 2, 3]}\n"),
            "configs/x.yaml:2:20: Pad: 'padding' must be an integer or a list of 1, 2 or 4 integers, got a list of 3");
  EXPECT_NE(test::pipeline_error("preprocess:\n  - Pad: {padding: 1, padding_mode: wrap}\n")
                .find("'padding_mode' must be one of constant, edge, reflect, symmetric, got 'wrap'"),
            std::string::npos);
}

TEST(pad, fill_must_fit_the_image) {
  sample s;
  s.mat = cv::Mat(2, 2, CV_8UC1, cv::Scalar::all(1));
  EXPECT_THROW(pad({1}, {300}, padding_mode::constant, "1", "300").apply(s), error);
  EXPECT_THROW(pad({1}, {1, 2, 3}, padding_mode::constant, "1", "[1, 2, 3]").apply(s), error);
}

}  // namespace
}  // namespace ptjs
