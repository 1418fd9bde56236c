// Presets (torchvision.transforms._presets) and whole pipelines against torchvision.
#include "presets.h"

#include "testutil.h"

namespace ptjs {
namespace {

TEST(presets, match_torchvision_exactly) { test::expect_group_matches_torchvision("presets"); }

TEST(presets, whole_pipelines_match_torchvision_exactly) { test::expect_group_matches_torchvision("pipelines"); }

TEST(presets, image_classification_expands_like_forward) {
  const YAML::Node doc = YAML::Load("preprocess: {preset: ImageClassification, crop_size: 224}");
  const pipeline p = build_pipeline(doc["preprocess"], test::builtin_registry(), "x.yaml");
  EXPECT_EQ(p.describe(), (std::vector<std::string>{
                              "Resize(size=[256], interpolation=bilinear, max_size=None, antialias=None)",
                              "CenterCrop(size=[224])",
                              "PILToTensor()",
                              "ConvertImageDtype(dtype=torch.float32)",
                              "Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])",
                          }));
}

TEST(presets, errors_name_the_preset_and_location) {
  EXPECT_EQ(test::pipeline_error("preprocess:\n  preset: ImageClassification\n  resize_size: 232\n"),
            "configs/x.yaml:2:11: ImageClassification: 'crop_size' is required (an integer)");
  EXPECT_EQ(test::pipeline_error("preprocess:\n  preset: ImageClassification\n  crop_size: 224\n  crop: 3\n"),
            "configs/x.yaml:4:3: ImageClassification: unknown argument 'crop'; accepted: preset, crop_size, "
            "resize_size, interpolation, mean, std, antialias");
  EXPECT_EQ(test::pipeline_error("preprocess: {preset: VideoClassification}\n"),
            "configs/x.yaml:1:22: preset: 'preset' must be one of ImageClassification, SemanticSegmentation, "
            "ObjectDetection, got 'VideoClassification'");
  EXPECT_EQ(test::pipeline_error("preprocess: {preset: SemanticSegmentation}\n"),
            "configs/x.yaml:1:22: SemanticSegmentation: 'resize_size' is required (an integer, or null for no resize)");
}

}  // namespace
}  // namespace ptjs
