// Grayscale against torchvision (PIL 'L' formula and the tensor formula).
#include "grayscale.h"

#include "testutil.h"

namespace ptjs {
namespace {

TEST(grayscale, matches_torchvision_exactly) { test::expect_group_matches_torchvision("grayscale"); }

TEST(grayscale, pil_formula) {
  sample s;
  s.mat = cv::Mat(1, 1, CV_8UC3, cv::Scalar(200, 100, 50));
  const sample g = grayscale(1).apply(s);
  ASSERT_EQ(g.mat.type(), CV_8UC1);
  EXPECT_EQ(g.mat.at<uchar>(0, 0), (19595 * 200 + 38470 * 100 + 7471 * 50 + 0x8000) >> 16);
  EXPECT_EQ(grayscale(3).apply(s).mat.type(), CV_8UC3);
  EXPECT_EQ(grayscale(3).repr(), "Grayscale(num_output_channels=3)");
  EXPECT_THROW(grayscale(2), error);
}

}  // namespace
}  // namespace ptjs
