// Building pipelines from YAML: one fixture per failure mode, each checking the error text
// with its file:line:column.
#include "registry.h"

#include "testutil.h"

namespace ptjs {
namespace {

using test::pipeline_error;

TEST(registry, valid_pipeline_builds_and_describes) {
  const YAML::Node doc = YAML::Load(
      "preprocess:\n"
      "  - Resize: {size: 32, interpolation: bicubic}\n"
      "  - CenterCrop: {size: 28}\n"
      "  - Grayscale:\n"
      "  - ToTensor: {}\n"
      "  - Normalize: {mean: [0.5], std: [0.5]}\n");
  const pipeline p = build_pipeline(doc["preprocess"], test::builtin_registry(), "x.yaml");
  EXPECT_EQ(p.describe(), (std::vector<std::string>{
                              "Resize(size=32, interpolation=bicubic, max_size=None, antialias=None)",
                              "CenterCrop(size=(28, 28))", "Grayscale(num_output_channels=1)", "ToTensor()",
                              "Normalize(mean=[0.5], std=[0.5])"}));
  sample s;
  s.mat = cv::Mat(40, 50, CV_8UC3, cv::Scalar(10, 20, 30));
  const sample out = p.run(s);
  EXPECT_TRUE(out.is_tensor);
  EXPECT_EQ(out.mat.type(), CV_32FC1);
  EXPECT_EQ(out.mat.size(), cv::Size(28, 28));
}

// input.draft: what the first step that changes the size asks PIL's draft for, (w, h).
TEST(registry, draft_request_is_the_first_resize) {
  struct request_case {
    const char* preprocess;
    cv::Size want;  // empty: no draft
  };
  const request_case cases[] = {
      {"{preset: ImageClassification, crop_size: 224}", {256, 256}},
      {"{preset: ImageClassification, crop_size: 224, resize_size: 232}", {232, 232}},
      {"{preset: SemanticSegmentation, resize_size: 520}", {520, 520}},
      {"{preset: SemanticSegmentation, resize_size: null}", {}},
      {"{preset: ObjectDetection}", {}},
      {"[Resize: {size: 32}, CenterCrop: {size: 28}, ToTensor: {}]", {32, 32}},
      {"[Resize: {size: [32]}, ToTensor: {}]", {32, 32}},
      {"[Resize: {size: [100, 150]}, ToTensor: {}]", {150, 100}},  // [h, w] -> (w, h)
      {"[Grayscale: {}, Resize: {size: 48}, ToTensor: {}]", {48, 48}},
      {"[ToTensor: {}, Normalize: {mean: [0.5], std: [0.5]}, Resize: {size: 40}]", {40, 40}},
      {"[PILToTensor: {}, ConvertImageDtype: {dtype: float32}, Resize: {size: 24}]", {24, 24}},
      {"[Resize: {size: 40, max_size: 64}, ToTensor: {}]", {}},
      {"[CenterCrop: {size: 64}, Resize: {size: 32}, ToTensor: {}]", {}},
      {"[Pad: {padding: 2}, Resize: {size: 32}, ToTensor: {}]", {}},
      {"[ToTensor: {}]", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.preprocess);
    const pipeline p = build_pipeline(YAML::Load(c.preprocess), test::builtin_registry(), "x.yaml");
    EXPECT_EQ(p.draft_request(), c.want);
  }
  EXPECT_EQ(pipeline().draft_request(), cv::Size());
}

TEST(registry, negative_size) {
  EXPECT_EQ(pipeline_error("name: x\npreprocess:\n  - Resize: {size: -3}\n"),
            "configs/x.yaml:3:20: Resize: 'size' must be positive, got -3");
}

TEST(registry, unknown_transform_lists_accepted_names) {
  EXPECT_EQ(pipeline_error("preprocess:\n  - ToTensor: {}\n  - Resise: {size: 3}\n"),
            "configs/x.yaml:3:5: Resise: unknown transform; accepted: CenterCrop, ConvertImageDtype, Grayscale, "
            "Normalize, PILToTensor, Pad, Resize, ToTensor");
}

TEST(registry, training_only_transform_is_refused) {
  const std::string msg = pipeline_error("preprocess:\n  - RandomResizedCrop: {size: 224}\n");
  EXPECT_EQ(msg, "configs/x.yaml:2:5: RandomResizedCrop: RandomResizedCrop is a random, training-time only "
                 "augmentation; inference pipelines should use deterministic transforms (e.g. Resize + CenterCrop)");
  for (const char* name : {"RandomCrop", "RandomHorizontalFlip", "ColorJitter", "AutoAugment", "GaussianBlur",
                           "RandomErasing", "TrivialAugmentWide", "AugMix", "RandomApply"}) {
    EXPECT_NE(pipeline_error(std::string("preprocess:\n  - ") + name + ": {}\n").find("training-time only"),
              std::string::npos)
        << name;
  }
}

TEST(registry, unknown_argument_lists_accepted_keys) {
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize: {szie: 3}\n"),
            "configs/x.yaml:2:5: Resize: 'size' is required (an integer or a list of 1 or 2 integers)");
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize:\n      size: 3\n      antialas: true\n"),
            "configs/x.yaml:4:7: Resize: unknown argument 'antialas'; accepted: size, interpolation, max_size, "
            "antialias");
  EXPECT_EQ(pipeline_error("preprocess:\n  - ToTensor: {x: 1}\n"),
            "configs/x.yaml:2:16: ToTensor: unknown argument 'x'; accepted: none");
}

TEST(registry, item_must_be_a_single_key_map) {
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize: {size: 3}\n    CenterCrop: {size: 2}\n"),
            "configs/x.yaml:2:5: preprocess: item 1 must be a single-key map naming one transform, e.g. "
            "'- Resize: {size: 256}', got 2 keys");
  EXPECT_EQ(pipeline_error("preprocess:\n  - ToTensor\n"),
            "configs/x.yaml:2:5: preprocess: item 1 must be a single-key map naming one transform, e.g. "
            "'- Resize: {size: 256}'");
  EXPECT_EQ(pipeline_error("preprocess: Resize\n"),
            "configs/x.yaml:1:13: preprocess: must be a list of transforms (- Resize: {size: 256}) or a map with "
            "'preset', got 'Resize'");
}

TEST(registry, arguments_must_be_a_map) {
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize: 32\n"),
            "configs/x.yaml:2:13: Resize: arguments must be a map of name: value (e.g. {}), got '32'");
}

TEST(registry, bad_values) {
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize: {size: 32, interpolation: cubic}\n"),
            "configs/x.yaml:2:39: Resize: 'interpolation' must be one of nearest, bilinear, bicubic, box, hamming, "
            "lanczos, got 'cubic'");
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize: {size: [1, 2, 3]}\n"),
            "configs/x.yaml:2:20: Resize: 'size' must be an integer or a list of 1 or 2 integers, got a list of 3");
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize: {size: [32, abc]}\n"),
            "configs/x.yaml:2:25: Resize: 'size' must be an integer or a list of 1 or 2 integers, got 'abc' in the list");
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize: {size: 2.5}\n"),
            "configs/x.yaml:2:20: Resize: 'size' must be an integer or a list of 1 or 2 integers, got '2.5'");
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize: {size: [3, 4], max_size: 10}\n"),
            "configs/x.yaml:2:38: Resize: 'max_size' is only allowed when 'size' is one value (the smaller edge)");
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize: {size: 32, antialias: maybe}\n"),
            "configs/x.yaml:2:35: Resize: 'antialias' must be true or false, got 'maybe'");
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize: {size: 32, interpolation: box, antialias: false}\n"),
            "configs/x.yaml:2:55: Resize: antialias: false resizes as torchvision resizes tensors, which supports "
            "nearest, bilinear and bicubic only, got interpolation box");
  EXPECT_EQ(pipeline_error("preprocess:\n  - Normalize: {std: [0.5]}\n"),
            "configs/x.yaml:2:5: Normalize: 'mean' is required (a number or a list of numbers)");
  EXPECT_EQ(pipeline_error("preprocess:\n  - Normalize: {mean: [0.5, 0.5], std: [1, 1, 1]}\n"),
            "configs/x.yaml:2:40: Normalize: 'mean' has 2 values but 'std' has 3");
  EXPECT_EQ(pipeline_error("preprocess:\n  - Grayscale: {num_output_channels: 2}\n"),
            "configs/x.yaml:2:38: Grayscale: 'num_output_channels' must be 1 or 3, got 2");
  EXPECT_EQ(pipeline_error("preprocess:\n  - CenterCrop: {size: 0}\n"),
            "configs/x.yaml:2:24: CenterCrop: 'size' must be positive, got 0");
}

TEST(registry, empty_value_points_at_its_key) {
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize:\n      size:\n"),
            "configs/x.yaml:3:7: Resize: 'size' is required (an integer or a list of 1 or 2 integers)");
  EXPECT_EQ(pipeline_error("preprocess:\n  - Resize:\n      size: 3\n      interpolation:\n"), "");
}

TEST(registry, location_without_a_mark) {
  EXPECT_EQ(format_location("spec.yaml", YAML::Mark::null_mark()), "spec.yaml: ");
}

TEST(registry, stage_errors_at_run_time) {
  const YAML::Node doc = YAML::Load("preprocess:\n  - Normalize: {mean: [0.5], std: [0.5]}\n");
  const pipeline p = build_pipeline(doc["preprocess"], test::builtin_registry(), "x.yaml");
  sample s;
  s.mat = cv::Mat(2, 2, CV_8UC1, cv::Scalar::all(0));
  try {
    p.run(s);
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), error_code::invalid_input);
    EXPECT_STREQ(e.what(), "Normalize: expects a float tensor, got a PIL L image of 2x2 (HxW); put ToTensor before it");
  }
}

TEST(registry, empty_preprocess_is_an_empty_pipeline) {
  EXPECT_EQ(build_pipeline(YAML::Node(), test::builtin_registry(), "x.yaml").size(), 0u);
}

}  // namespace
}  // namespace ptjs
