// Resize against torchvision 0.14 / Pillow 9.4, and its output-size rule.
#include "resize.h"

#include "testutil.h"

namespace ptjs {
namespace {

TEST(resize, pil_filters_match_torchvision_exactly) { test::expect_group_matches_torchvision("resize"); }

TEST(resize, short_side_and_max_size_match_torchvision_exactly) {
  test::expect_group_matches_torchvision("resize_short_side");
}

TEST(resize, uint8_tensor_path_within_one_level) { test::expect_group_matches_torchvision("resize_tensor_uint8"); }

TEST(resize, float_tensor_path_matches_torchvision) { test::expect_group_matches_torchvision("resize_tensor_float"); }

TEST(resize, output_size_follows_compute_resized_output_size) {
  // (width, height) in, as cv::Size.
  EXPECT_EQ(resized_output_size({500, 1}, {32}, std::nullopt), cv::Size(16000, 32));
  EXPECT_EQ(resized_output_size({451, 300}, {256}, std::nullopt), cv::Size(384, 256));  // int(256*451/300)
  EXPECT_EQ(resized_output_size({300, 451}, {256}, std::nullopt), cv::Size(256, 384));
  EXPECT_EQ(resized_output_size({640, 427}, {224}, std::nullopt), cv::Size(335, 224));
  EXPECT_EQ(resized_output_size({640, 427}, {37, 53}, std::nullopt), cv::Size(53, 37));
  EXPECT_EQ(resized_output_size({640, 427}, {100}, 120), cv::Size(120, 80));  // int(120*100/149)
  EXPECT_EQ(resized_output_size({7, 7}, {7}, std::nullopt), cv::Size(7, 7));
}

TEST(resize, unchanged_size_returns_the_input) {
  const resize r({4, 6}, interpolation::bicubic, std::nullopt, std::nullopt);
  sample s;
  s.mat = cv::Mat(4, 6, CV_8UC3, cv::Scalar(1, 2, 3));
  const uchar* data = s.mat.data;
  EXPECT_EQ(r.apply(s).mat.data, data);
}

TEST(resize, repr_is_torchvision_like) {
  EXPECT_EQ(resize({32}, interpolation::bilinear, std::nullopt, std::nullopt, true).repr(),
            "Resize(size=32, interpolation=bilinear, max_size=None, antialias=None)");
  EXPECT_EQ(resize({32}, interpolation::lanczos, 40, true).repr(),
            "Resize(size=[32], interpolation=lanczos, max_size=40, antialias=True)");
  EXPECT_EQ(resize({3, 4}, interpolation::nearest, std::nullopt, false).repr(),
            "Resize(size=[3, 4], interpolation=nearest, max_size=None, antialias=False)");
}

TEST(resize, pil_only_filters_refuse_tensors) {
  const resize r({8}, interpolation::lanczos, std::nullopt, std::nullopt);
  sample s;
  s.mat = cv::Mat(4, 6, CV_32FC3, cv::Scalar::all(0.5));
  s.is_tensor = true;
  try {
    r.apply(s);
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), error_code::invalid_input);
    EXPECT_NE(std::string(e.what()).find("lanczos exists only for PIL images"), std::string::npos) << e.what();
  }
}

TEST(resize, invalid_arguments_are_config_errors) {
  EXPECT_THROW(resize({0}, interpolation::bilinear, std::nullopt, std::nullopt), error);
  EXPECT_THROW(resize({3, 4}, interpolation::bilinear, 10, std::nullopt), error);
  EXPECT_THROW(resize({32}, interpolation::bilinear, 32, std::nullopt), error);
  EXPECT_THROW(resize({32}, interpolation::box, std::nullopt, false), error);
}

}  // namespace
}  // namespace ptjs
