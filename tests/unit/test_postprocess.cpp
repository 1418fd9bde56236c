#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "error.h"
#include "postprocess.h"

namespace ptjs {
namespace {

host_tensor fp32(std::vector<int64_t> shape, const std::vector<float>& values) {
  host_tensor t;
  t.name = "output0";
  t.shape = std::move(shape);
  t.data.resize(values.size() * sizeof(float));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

TEST(postprocess, softmax_sums_to_one_along_dim) {
  auto t = fp32({2, 3}, {1, 2, 3, 0, 0, 0});
  softmax_inplace(t, 1);
  EXPECT_NEAR(t.fp32()[0] + t.fp32()[1] + t.fp32()[2], 1.0, 1e-6);
  EXPECT_NEAR(t.fp32()[2], std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)), 1e-6);
  EXPECT_NEAR(t.fp32()[4], 1.0 / 3, 1e-6);
  auto cols = fp32({2, 2}, {0, 5, 0, 5});
  softmax_inplace(cols, 0);
  EXPECT_NEAR(cols.fp32()[0], 0.5, 1e-6);
  EXPECT_THROW(softmax_inplace(cols, 2), error);
}

TEST(postprocess, topk_orders_by_score_then_index) {
  const float v[] = {0.1f, 0.7f, 0.7f, NAN, 0.2f};
  EXPECT_EQ(top_k(v, 5, 3), (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(top_k(v, 5, 10).size(), 5u);
}

TEST(postprocess, topk_with_labels_per_sample) {
  postprocessor post({{"Softmax", 1, 5}, {"TopK", 1, 2}}, {"cat", "dog", "eel"});
  record a, b;
  post.apply({fp32({2, 3}, {0, 5, 1, 9, 0, 0})}, {&a, &b});
  ASSERT_EQ(a.predictions.size(), 2u);
  EXPECT_EQ(a.predictions[0].index, 1);
  EXPECT_EQ(a.predictions[0].label, "dog");
  EXPECT_EQ(a.predictions[1].label, "eel");
  EXPECT_EQ(b.predictions[0].label, "cat");
  EXPECT_GT(b.predictions[0].score, 0.99f);
}

TEST(postprocess, argmax_and_sigmoid) {
  postprocessor post({{"Sigmoid", 1, 5}, {"Argmax", 1, 5}}, {});
  record a;
  post.apply({fp32({1, 3, 1, 1}, {-1, 0, 2})}, {&a});
  ASSERT_EQ(a.predictions.size(), 1u);
  EXPECT_EQ(a.predictions[0].index, 2);
  EXPECT_TRUE(a.predictions[0].label.empty());
  EXPECT_NEAR(a.predictions[0].score, 1 / (1 + std::exp(-2.0)), 1e-6);
}

TEST(postprocess, raw_splits_every_output_per_sample) {
  postprocessor post({}, {});
  EXPECT_TRUE(post.raw());
  record a, b;
  auto second = fp32({2, 1}, {7, 8});
  second.name = "output1";
  post.apply({fp32({2, 2}, {1, 2, 3, 4}), second}, {&a, &b});
  ASSERT_EQ(b.outputs.size(), 2u);
  EXPECT_EQ(b.outputs[0].shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(b.outputs[0].fp32()[1], 4.f);
  EXPECT_EQ(b.outputs[1].name, "output1");
  EXPECT_EQ(b.outputs[1].fp32()[0], 8.f);
}

TEST(postprocess, output_without_batch_dimension_is_an_error) {
  postprocessor post({{"TopK", 1, 1}}, {});
  record a, b;
  EXPECT_THROW(post.apply({fp32({3}, {1, 2, 3})}, {&a, &b}), error);
  EXPECT_THROW(post.apply({fp32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})}, {&a, &b}), error);
}

TEST(postprocess, steps_after_a_terminal_step_are_refused) {
  EXPECT_THROW(postprocessor({{"TopK", 1, 1}, {"Softmax", 1, 1}}, {}), error);
}

}  // namespace
}  // namespace ptjs
