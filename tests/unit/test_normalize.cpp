// Normalize against torchvision: (x - mean) / std in float32, no reciprocal.
#include "normalize.h"

#include "testutil.h"

namespace ptjs {
namespace {

TEST(normalize, matches_torchvision_exactly) { test::expect_group_matches_torchvision("normalize"); }

TEST(normalize, refuses_pil_images_and_channel_mismatch) {
  const normalize n({0.1, 0.2, 0.3}, {0.5, 0.5, 0.5});
  sample pil;
  pil.mat = cv::Mat(2, 2, CV_8UC3, cv::Scalar::all(1));
  try {
    n.apply(pil);
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), error_code::invalid_input);
    EXPECT_STREQ(e.what(), "Normalize: expects a float tensor, got a PIL RGB image of 2x2 (HxW); put ToTensor before it");
  }
  sample gray;
  gray.is_tensor = true;
  gray.mat = cv::Mat(2, 2, CV_32FC1, cv::Scalar::all(0.5));
  try {
    n.apply(gray);
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("'mean' has 3 values but the tensor has 1 channels"), std::string::npos)
        << e.what();
  }
}

TEST(normalize, zero_std_is_refused) {
  EXPECT_THROW(normalize({0.5}, {0.0}), error);
  EXPECT_THROW(normalize({0.5}, {1e-50}), error);  // zero once rounded to float32, as torchvision checks
  const std::string msg = test::pipeline_error("preprocess:\n  - Normalize: {mean: [0.5], std: [0]}\n");
  EXPECT_EQ(msg, "configs/x.yaml:2:35: Normalize: 'std' must not contain zero (in float32), got [0.0]");
}

TEST(normalize, repr_is_torchvision_like) {
  EXPECT_EQ(normalize({0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}).repr(),
            "Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])");
}

}  // namespace
}  // namespace ptjs
