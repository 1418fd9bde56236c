// Resize against torchvision 0.14 / Pillow 9.4, and its output-size rule.
#include "resize.h"

#include <random>

#include "center_crop.h"
#include "pil_resample.h"
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

// Resize then CenterCrop runs as one step that resamples only the kept region: it must give
// the pixels of the two steps run one after the other, for every filter, shrinking and
// growing, either axis unchanged, L and RGB, and crops anywhere.
// The horizontal pass's transpose: every size around the 8x8 blocks, views into a larger
// image (row steps that are not 3 x cols), one and three channels.
TEST(resize, transpose_pixels_equals_cv_transpose) {
  std::mt19937 rng(11);
  cv::Mat big(70, 90, CV_8UC3);
  cv::randu(big, 0, 256);
  for (int rows = 1; rows <= 26; ++rows)
    for (int cols = 1; cols <= 26; ++cols) {
      const cv::Mat view = big(cv::Rect(static_cast<int>(rng() % 20), static_cast<int>(rng() % 20), cols, rows));
      cv::Mat expected, got;
      cv::transpose(view, expected);
      transpose_pixels(view, got);
      ASSERT_EQ(got.size(), expected.size()) << rows << "x" << cols;
      ASSERT_EQ(cv::norm(got, expected, cv::NORM_INF), 0) << rows << "x" << cols;
    }
  cv::Mat photo(853, 1280, CV_8UC3), gray(37, 53, CV_8UC1), expected, got;
  cv::randu(photo, 0, 256);
  cv::randu(gray, 0, 256);
  for (const cv::Mat& m : {photo, gray}) {
    cv::transpose(m, expected);
    transpose_pixels(m, got);
    ASSERT_EQ(cv::norm(got, expected, cv::NORM_INF), 0) << m.size();
  }
}

TEST(resize, region_resize_equals_resize_then_crop) {
  std::mt19937 rng(7);
  const auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const pil_filter filters[] = {pil_filter::nearest, pil_filter::box, pil_filter::bilinear,
                                pil_filter::hamming, pil_filter::bicubic, pil_filter::lanczos};
  for (int round = 0; round < 300; ++round) {
    cv::Mat src(pick(1, 90), pick(1, 90), round % 3 ? CV_8UC3 : CV_8UC1);
    cv::randu(src, 0, 256);
    cv::Size size(pick(1, 120), pick(1, 120));
    if (round % 7 == 0) size.width = src.cols;
    if (round % 11 == 0) size.height = src.rows;
    const cv::Rect region(pick(0, size.width - 1), pick(0, size.height - 1), 0, 0);
    const cv::Rect kept(region.x, region.y, pick(1, size.width - region.x), pick(1, size.height - region.y));
    const pil_filter f = filters[round % 6];
    const cv::Mat whole = pil_resize(src, size, f);
    const cv::Mat part = pil_resize_region(src, size, kept, f);
    ASSERT_EQ(part.size(), kept.size());
    ASSERT_EQ(cv::norm(part, whole(kept), cv::NORM_INF), 0)
        << "round " << round << ": " << src.cols << "x" << src.rows << " -> " << size << " region " << kept;
  }
}

TEST(resize, resize_then_center_crop_runs_fused_with_the_same_pixels) {
  const resize r({256}, interpolation::bilinear, std::nullopt, std::nullopt);
  const center_crop crop(224, 224, "(224, 224)");
  const center_crop too_big(300, 300, "(300, 300)");
  sample s;
  s.mat = cv::Mat(480, 640, CV_8UC3);
  cv::randu(s.mat, 0, 256);
  const auto fused = r.apply_then(s, crop);
  ASSERT_TRUE(fused);
  EXPECT_EQ(cv::norm(fused->mat, crop.apply(r.apply(s)).mat, cv::NORM_INF), 0);
  EXPECT_FALSE(r.apply_then(s, too_big)) << "a crop that pads is not a region of the resized image";
  EXPECT_FALSE(r.apply_then(s, r)) << "a resize keeps no region";
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

// A size that would allocate without bound is an error, at load when the spec fixes it and per
// image when the image's aspect ratio decides it; a spec like this once ran until the system
// killed ptjs (24 GB resident).
TEST(resize, outputs_over_the_pixel_limit_are_errors_not_allocations) {
  EXPECT_EQ(test::pipeline_error("preprocess:\n  - Resize: {size: [60000, 60000]}\n"),
            "configs/x.yaml:2:20: Resize: 'size' [60000, 60000] asks for 60000x60000 (HxW) = 3600000000 pixels, over "
            "the limit of 178956970 pixels per image");
  EXPECT_EQ(test::pipeline_error("preprocess:\n  - CenterCrop: {size: 14000}\n"),
            "configs/x.yaml:2:24: CenterCrop: 'size' [14000] asks for 14000x14000 (HxW) = 196000000 pixels, over the "
            "limit of 178956970 pixels per image");
  EXPECT_NE(test::pipeline_error("preprocess:\n  - Pad: {padding: [7000, 7000]}\n")
                .find("'padding' [7000, 7000] makes even a 1x1 image 14001x14001 (HxW)"),
            std::string::npos);
  EXPECT_THROW(center_crop(20000, 20000, "[20000]"), error);  // as a preset builds it
  EXPECT_THROW(resize({20000, 9000}, interpolation::bilinear, std::nullopt, std::nullopt), error);
  // Just under the limit is allowed (13377^2 < 178956970 < 13378^2).
  EXPECT_EQ(test::pipeline_error("preprocess:\n  - CenterCrop: {size: 13377}\n"), "");

  // One number: the short side; a long thin image makes the long side huge. 1 x 20000 with
  // size 10000 asks for 10000 x 200000000; size 30000 on 1 x 100000 passes int's range.
  for (const auto& [cols, size] : std::vector<std::pair<int, int>>{{20000, 10000}, {100000, 30000}}) {
    const resize r({size}, interpolation::bilinear, std::nullopt, std::nullopt);
    sample thin;
    thin.mat = cv::Mat(1, cols, CV_8UC3, cv::Scalar::all(7));
    try {
      r.apply(thin);
      FAIL() << "expected an error for 1x" << cols;
    } catch (const error& e) {
      EXPECT_EQ(e.code(), error_code::invalid_input);
      EXPECT_NE(std::string(e.what()).find("Resize: an image of 1x" + std::to_string(cols) + " would become " +
                                           std::to_string(size) + "x"),
                std::string::npos)
          << e.what();
    }
    EXPECT_FALSE(r.apply_then(thin, center_crop(8, 8, "8")).has_value());  // left to apply()
  }
  // Pad on a large image: the padding fits a 1x1 image, not this one.
  const pipeline p = build_pipeline(YAML::Load("[Pad: {padding: 6000}]"), test::builtin_registry(), "x.yaml");
  sample big;
  big.mat = cv::Mat(2000, 2000, CV_8UC1, cv::Scalar::all(1));
  try {
    p.run(big);
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), error_code::invalid_input);
    EXPECT_NE(std::string(e.what()).find("padding an image of 2000x2000 would make it 14000x14000 (HxW)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ptjs
