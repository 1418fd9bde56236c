#include <gtest/gtest.h>

#include "error.h"
#include "model_spec.h"
#include "registry.h"

namespace ptjs {
namespace {

const std::string specs = PTJS_TEST_DATA "/specs/";

TEST(model_spec, valid_spec_parses_every_key) {
  const auto spec = load_model_spec(specs + "valid.yaml");
  EXPECT_EQ(spec.name, "ok");
  EXPECT_EQ(spec.model_path, specs + "m.pt");
  EXPECT_EQ(spec.mode, color_mode::l);
  ASSERT_TRUE(spec.preprocess.IsSequence());
  EXPECT_EQ(spec.preprocess.size(), 2u);
  ASSERT_EQ(spec.postprocess.size(), 2u);
  EXPECT_EQ(spec.postprocess[1].name, "TopK");
  EXPECT_EQ(spec.postprocess[1].k, 3);
  EXPECT_EQ(spec.labels, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(spec.max_batch_size, 4);
  EXPECT_EQ(spec.max_delay_ms, 2);
}

struct bad_case {
  const char* file;
  const char* message;  // must appear in the error text
};

// The fixture's file name, so that test names read .../invalid_mode rather than the bytes
// of the struct.
void PrintTo(const bad_case& c, std::ostream* out) { *out << c.file; }
std::string case_name(const ::testing::TestParamInfo<bad_case>& info) {
  const std::string file = info.param.file;
  return file.substr(0, file.find('.'));
}

class invalid_spec : public ::testing::TestWithParam<bad_case> {};

TEST_P(invalid_spec, error_names_file_line_column_and_what) {
  const auto& c = GetParam();
  try {
    load_model_spec(specs + c.file);
    FAIL() << c.file << " parsed without error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), error_code::invalid_config);
    EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << "got: " << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    fixtures, invalid_spec,
    ::testing::Values(
        bad_case{"invalid_unknown_key.yaml", "invalid_unknown_key.yaml:2:1: unknown key 'modle' (accepted: name, model,"},
        bad_case{"invalid_mode.yaml", "invalid_mode.yaml:2:28: input: 'mode' must be one of RGB, L, got 'CMYK'"},
        bad_case{"invalid_input_type.yaml", "invalid_input_type.yaml:2:15: input: 'type' must be one of image, tensor"},
        bad_case{"invalid_topk.yaml", "invalid_topk.yaml:3:15: TopK: 'k' must be positive, got 0"},
        bad_case{"invalid_postprocess_name.yaml", "invalid_postprocess_name.yaml:3:5: unknown postprocess step 'Softmx' (accepted: Softmax,"},
        bad_case{"invalid_batch_size.yaml", "invalid_batch_size.yaml:2:28: batching: 'max_batch_size' must be positive, got -1"},
        bad_case{"invalid_tensor_shape.yaml", "input: 'shape' dimensions must be positive or -1, got 0"},
        bad_case{"invalid_tensor_no_shape.yaml", "input: a tensor input needs 'shape'"},
        bad_case{"invalid_yaml.yaml", "invalid_yaml.yaml:3:1: not valid YAML"},
        bad_case{"invalid_device.yaml", "invalid_device.yaml:2:9: 'device' must be cpu, cuda or cuda:N, got 'tpu'"},
        bad_case{"invalid_labels_file.yaml", "cannot read labels file"},
        bad_case{"invalid_softmax_arg.yaml", "invalid_softmax_arg.yaml:3:23: Softmax: unknown key 'axis' (accepted: dim)"},
        bad_case{"invalid_draft.yaml", "invalid_draft.yaml:2:29: input: 'draft' must be true or false, got 'maybe'"},
        bad_case{"invalid_draft_key.yaml",
                 "invalid_draft_key.yaml:4:3: input: unknown key 'drafts' (accepted: type, mode, exif_transpose, draft)"}),
    case_name);

TEST(model_spec, merge_overrides_only_given_keys) {
  const auto base = parse_model_spec("name: m\nlabels: [x, y]\npostprocess:\n  - Argmax: {}\n", "base.yaml", ".");
  const auto overlay = parse_model_spec("input: {mode: L}\npreprocess:\n  - ToTensor: {}\n", "p.yaml", ".");
  const auto merged = merge_specs(base, overlay);
  EXPECT_EQ(merged.labels, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(merged.postprocess.at(0).name, "Argmax");
  EXPECT_EQ(merged.mode, color_mode::l);
  EXPECT_EQ(merged.preprocess.size(), 1u);
}

TEST(model_spec, tensor_input_declares_shape_and_datatype) {
  const auto spec = parse_model_spec("input: {type: tensor, name: x, shape: [-1, 4], datatype: INT64}\n", "t.yaml", ".");
  ASSERT_EQ(spec.inputs.size(), 1u);
  EXPECT_EQ(spec.inputs[0].shape, (std::vector<int64_t>{-1, 4}));
  EXPECT_EQ(spec.inputs[0].datatype, "INT64");
  EXPECT_EQ(spec.inputs[0].name, "x");
}

TEST(model_spec, tensor_input_lists_several_tensors_in_forward_order) {
  const auto spec = parse_model_spec(
      "input:\n  type: tensor\n  tensors:\n    - {name: ids, shape: [-1, -1], datatype: INT64}\n"
      "    - {shape: [-1, -1], datatype: BOOL}\n",
      "t.yaml", ".");
  ASSERT_EQ(spec.inputs.size(), 2u);
  EXPECT_EQ(spec.inputs[0].name, "ids");
  EXPECT_EQ(spec.inputs[0].datatype, "INT64");
  EXPECT_EQ(spec.inputs[1].name, "");  // named after forward's argument
  EXPECT_EQ(spec.inputs[1].shape, (std::vector<int64_t>{-1, -1}));
  EXPECT_EQ(spec.inputs[1].datatype, "BOOL");

  const auto fails_with = [](const std::string& text, const std::string& message) {
    try {
      parse_model_spec(text, "t.yaml", ".");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  };
  fails_with("input: {type: tensor, tensors: []}\n", "t.yaml:1:32: input: 'tensors' must be a list");
  fails_with("input: {type: tensor, shape: [-1, 4], tensors: [{shape: [-1]}]}\n",
             "input: unknown key 'shape' (accepted: type, tensors)");
  fails_with("input: {type: tensor, tensors: [{name: a, shape: [-1]}, {name: a, shape: [2]}]}\n",
             "t.yaml:1:57: input: two tensors are named 'a'");
  fails_with("input: {type: tensor, tensors: [{name: a}]}\n", "input: a tensor input needs 'shape'");
  fails_with("input: {type: tensor, tensors: [{name: a, shape: [-1], mode: RGB}]}\n",
             "input: unknown key 'mode' (accepted: name, shape, datatype)");
  fails_with("input: {type: tensor, tensors: [x]}\n", "input: each of 'tensors' must be a map");
}

TEST(model_spec, draft_is_off_by_default_and_asks_the_pipeline) {
  transform_registry registry;
  register_builtin_transforms(registry);
  const pipeline preset = build_pipeline(imagenet_preset(), registry, "preset");
  const pipeline crop_first = build_pipeline(YAML::Load("[CenterCrop: {size: 8}, Resize: {size: 4}]"), registry, "p");

  const auto off = parse_model_spec("input: {type: image, exif_transpose: true}\n", "off.yaml", ".");
  EXPECT_FALSE(off.draft);
  EXPECT_TRUE(decode_options_for(off, preset).draft_size.empty());
  EXPECT_TRUE(decode_options_for(off, preset).exif_transpose);

  const auto on = parse_model_spec("input: {type: image, draft: true}\n", "on.yaml", ".");
  EXPECT_TRUE(on.draft);
  decode_options limits;
  limits.max_pixels = 1000;
  const decode_options o = decode_options_for(on, preset, limits);
  EXPECT_EQ(o.draft_size, cv::Size(256, 256));
  EXPECT_EQ(o.max_pixels, 1000u);
  EXPECT_FALSE(o.exif_transpose);
  EXPECT_TRUE(decode_options_for(on, crop_first).draft_size.empty());

  // A pipeline file that gives `input` decides draft; one that does not keeps the model's.
  const auto merged = merge_specs(off, on);
  EXPECT_TRUE(merged.draft);
  EXPECT_TRUE(merge_specs(on, parse_model_spec("preprocess: []\n", "p.yaml", ".")).draft);
}

}  // namespace
}  // namespace ptjs
