// Normalize against torchvision: (x - mean) / std in float32, no reciprocal.
#include "normalize.h"

#include <cstdint>
#include <cstring>

#include "convert_image_dtype.h"
#include "pil_to_tensor.h"
#include "testutil.h"
#include "to_tensor.h"

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

// Every byte value in every channel, so that each table entry is checked.
cv::Mat every_byte(int channels) {
  cv::Mat m(3, 256, CV_8UC(channels));
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x)
      for (int c = 0; c < channels; ++c) m.ptr<uint8_t>(y)[x * channels + c] = static_cast<uint8_t>((x + 37 * c + 11 * y) % 256);
  return m;
}

bool same_bytes(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return false;
  for (int y = 0; y < a.rows; ++y)
    if (std::memcmp(a.ptr(y), b.ptr(y), a.cols * a.elemSize()) != 0) return false;
  return true;
}

TEST(normalize, fused_with_the_conversion_to_float_gives_the_same_bytes) {
  struct spec {
    std::vector<double> mean, std;
    int channels;
  };
  const std::vector<spec> specs = {{{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}, 3},
                                   {{0.5}, {0.5}, 3},
                                   {{0.1307}, {0.3081}, 1},
                                   {{0.1, 0.2, 0.3, 0.4}, {0.7, 1e-3, 3.0, 0.25}, 4},
                                   {{-2.0, 0.0}, {0.1, 7.0}, 2}};
  const to_tensor tt;
  const convert_image_dtype to_float(CV_32F);
  for (const auto& sp : specs) {
    SCOPED_TRACE(sp.channels);
    const normalize n(sp.mean, sp.std);
    sample image;
    image.mat = every_byte(sp.channels);
    if (sp.channels == 1 || sp.channels == 3) {  // PIL modes L and RGB: ToTensor
      const sample separate = n.apply(tt.apply(image));
      const auto fused = tt.apply_then(image, n);
      ASSERT_TRUE(fused.has_value());
      EXPECT_TRUE(fused->is_tensor);
      EXPECT_TRUE(same_bytes(fused->mat, separate.mat));
      // A view with its own row step (a crop), as CenterCrop leaves it.
      sample view;
      view.mat = image.mat(cv::Rect(5, 1, 200, 2));
      EXPECT_TRUE(same_bytes(tt.apply_then(view, n)->mat, n.apply(tt.apply(view)).mat));
    }
    // The preset's order: a uint8 tensor (PILToTensor), then ConvertImageDtype to float32.
    sample u8 = image;
    u8.is_tensor = true;
    const auto fused_dtype = to_float.apply_then(u8, n);
    ASSERT_TRUE(fused_dtype.has_value());
    EXPECT_TRUE(same_bytes(fused_dtype->mat, n.apply(to_float.apply(u8)).mat));
  }
}

TEST(normalize, fused_path_leaves_mismatches_and_other_steps_to_apply) {
  const normalize n({0.1, 0.2, 0.3}, {0.5, 0.5, 0.5});
  sample gray;
  gray.mat = every_byte(1);
  EXPECT_FALSE(to_tensor().apply_then(gray, n).has_value());  // apply() names the mismatch
  const pipeline p = build_pipeline(YAML::Load("[ToTensor: {}, Normalize: {mean: [0.1, 0.2, 0.3], std: [1, 1, 1]}]"),
                                    test::builtin_registry(), "x.yaml");
  try {
    p.run(gray);
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("'mean' has 3 values but the tensor has 1 channels (a float32 tensor"),
              std::string::npos)
        << e.what();
  }
  sample rgb;
  rgb.mat = every_byte(3);
  EXPECT_FALSE(to_tensor().apply_then(rgb, to_tensor()).has_value());
  EXPECT_FALSE(convert_image_dtype(CV_8U).apply_then(pil_to_tensor().apply(rgb), n).has_value());
  sample floats;
  floats.is_tensor = true;
  floats.mat = cv::Mat(2, 2, CV_32FC3, cv::Scalar::all(0.5));
  EXPECT_FALSE(convert_image_dtype(CV_32F).apply_then(floats, n).has_value());  // already float
  EXPECT_THROW(to_tensor().apply_then(floats, n), error);  // ToTensor's own check still applies
}

TEST(normalize, repr_is_torchvision_like) {
  EXPECT_EQ(normalize({0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}).repr(),
            "Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])");
}

}  // namespace
}  // namespace ptjs
