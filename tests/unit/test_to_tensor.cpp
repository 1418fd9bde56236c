// ToTensor, PILToTensor and ConvertImageDtype against torchvision.
#include "to_tensor.h"

#include "testutil.h"

namespace ptjs {
namespace {

TEST(to_tensor, matches_torchvision_exactly) { test::expect_group_matches_torchvision("to_tensor"); }

TEST(to_tensor, divides_by_255_exactly) {
  sample s;
  s.mat = cv::Mat(1, 256, CV_8UC1);
  for (int x = 0; x < 256; ++x) s.mat.at<uchar>(0, x) = static_cast<uchar>(x);
  const sample t = to_tensor().apply(s);
  ASSERT_TRUE(t.is_tensor);
  ASSERT_EQ(t.mat.type(), CV_32FC1);
  for (int x = 0; x < 256; ++x) {
    volatile float v = static_cast<float>(x);
    EXPECT_EQ(t.mat.at<float>(0, x), v / 255.0f) << x;
  }
}

TEST(to_tensor, refuses_a_tensor) {
  sample s;
  s.mat = cv::Mat(2, 2, CV_32FC3, cv::Scalar::all(0));
  s.is_tensor = true;
  try {
    to_tensor().apply(s);
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), error_code::invalid_input);
    EXPECT_STREQ(e.what(), "ToTensor: expects a PIL image (mode L or RGB), got a float32 tensor of 3x2x2 (CxHxW); "
                           "put it before ToTensor/PILToTensor");
  }
}

}  // namespace
}  // namespace ptjs
