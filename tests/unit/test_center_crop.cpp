// CenterCrop against torchvision, including zero padding and round-half-even offsets.
#include "center_crop.h"

#include "testutil.h"

namespace ptjs {
namespace {

TEST(center_crop, matches_torchvision_exactly) { test::expect_group_matches_torchvision("center_crop"); }

TEST(center_crop, offsets_round_half_to_even) {
  // Columns hold their own index: the first kept column is the left offset.
  cv::Mat m(1, 9, CV_8UC1);
  for (int x = 0; x < 9; ++x) m.at<uchar>(0, x) = static_cast<uchar>(x);
  const auto left_offset = [&](int w) {
    sample s;
    s.mat = m;
    return static_cast<int>(center_crop(1, w, "").apply(s).mat.at<uchar>(0, 0));
  };
  EXPECT_EQ(left_offset(8), 0);  // round(0.5) == 0
  EXPECT_EQ(left_offset(6), 2);  // round(1.5) == 2
  EXPECT_EQ(left_offset(4), 2);  // round(2.5) == 2
  EXPECT_EQ(left_offset(2), 4);  // round(3.5) == 4
}

TEST(center_crop, repr_is_torchvision_like) {
  transform_args a("x.yaml", "CenterCrop", YAML::Load("{size: 224}"), YAML::Mark());
  EXPECT_EQ(center_crop::from_args(a)->repr(), "CenterCrop(size=(224, 224))");
  transform_args b("x.yaml", "CenterCrop", YAML::Load("{size: [224, 200]}"), YAML::Mark());
  EXPECT_EQ(center_crop::from_args(b)->repr(), "CenterCrop(size=[224, 200])");
}

}  // namespace
}  // namespace ptjs
