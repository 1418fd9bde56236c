// PILToTensor keeps the uint8 values (parity cases run in test_to_tensor.cpp's group).
#include "pil_to_tensor.h"

#include "testutil.h"

namespace ptjs {
namespace {

TEST(pil_to_tensor, keeps_uint8_values) {
  sample s;
  s.mat = cv::Mat(3, 2, CV_8UC3, cv::Scalar(1, 2, 250));
  const sample t = pil_to_tensor().apply(s);
  EXPECT_TRUE(t.is_tensor);
  ASSERT_EQ(t.mat.type(), CV_8UC3);
  EXPECT_EQ(t.mat.at<cv::Vec3b>(2, 1), cv::Vec3b(1, 2, 250));
  const npy_array a = sample_to_npy(t);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3, 3, 2}));
  EXPECT_EQ(static_cast<uint8_t>(a.data[2 * 6]), 250);  // channel 2 first element
}

}  // namespace
}  // namespace ptjs
