// ConvertImageDtype as torchvision 0.14's convert_image_dtype.
#include "convert_image_dtype.h"

#include "testutil.h"

namespace ptjs {
namespace {

TEST(convert_image_dtype, float_to_uint8_scales_by_255_999) {
  sample s;
  s.is_tensor = true;
  s.mat = cv::Mat(1, 5, CV_32FC1);
  const float in[5] = {0.0f, 1.0f, 0.5f, 0.999f, 0.00392f};
  for (int i = 0; i < 5; ++i) s.mat.at<float>(0, i) = in[i];
  const sample out = convert_image_dtype(CV_8U).apply(s);
  ASSERT_EQ(out.mat.type(), CV_8UC1);
  const int want[5] = {0, 255, 127, 255, 1};  // (uint8)(v * 255.999f)
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out.mat.at<uchar>(0, i), want[i]) << in[i];
}

TEST(convert_image_dtype, same_dtype_is_unchanged_and_pil_is_refused) {
  sample s;
  s.is_tensor = true;
  s.mat = cv::Mat(2, 2, CV_32FC3, cv::Scalar::all(2.5));
  EXPECT_EQ(convert_image_dtype(CV_32F).apply(s).mat.data, s.mat.data);
  sample pil;
  pil.mat = cv::Mat(2, 2, CV_8UC3, cv::Scalar::all(1));
  EXPECT_THROW(convert_image_dtype(CV_32F).apply(pil), error);
}

TEST(convert_image_dtype, repr_and_arguments) {
  transform_args a("x.yaml", "ConvertImageDtype", YAML::Load("{dtype: float}"), YAML::Mark());
  EXPECT_EQ(convert_image_dtype::from_args(a)->repr(), "ConvertImageDtype(dtype=torch.float32)");
  EXPECT_NE(test::pipeline_error("preprocess:\n  - ConvertImageDtype: {dtype: int64}\n")
                .find("'dtype' must be one of float32, float, torch.float32, torch.float, uint8, torch.uint8"),
            std::string::npos);
}

}  // namespace
}  // namespace ptjs
