// .npy reading and writing (lib/npy.cpp).
#include "npy.h"

#include <cstdio>
#include <fstream>

#include "testutil.h"

namespace ptjs {
namespace {

TEST(npy, round_trip_and_layout) {
  sample s;
  s.is_tensor = true;
  s.mat = cv::Mat(2, 3, CV_32FC2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) s.mat.at<cv::Vec2f>(y, x) = cv::Vec2f(static_cast<float>(y * 3 + x), -1.0f);
  const npy_array a = sample_to_npy(s);
  EXPECT_EQ(a.dtype, "<f4");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2, 3}));
  const std::string path = std::string(PTJS_TX_REF_DIR) + "_npy_round_trip.npy";
  save_npy(path, a);
  const npy_array b = load_npy(path);
  std::remove(path.c_str());
  EXPECT_EQ(b.dtype, a.dtype);
  EXPECT_EQ(b.shape, a.shape);
  EXPECT_EQ(b.data, a.data);
  EXPECT_EQ(test::element(b, 4), 4.0);   // channel 0, y 1, x 1
  EXPECT_EQ(test::element(b, 6), -1.0);  // channel 1 starts
}

TEST(npy, image_round_trip) {
  npy_array a;
  a.dtype = "|u1";
  a.shape = {2, 3};
  a.data = {1, 2, 3, 4, 5, 6};
  const sample s = npy_to_image(a);
  EXPECT_FALSE(s.is_tensor);
  EXPECT_EQ(s.mat.type(), CV_8UC1);
  EXPECT_EQ(s.mat.at<uchar>(1, 2), 6);
  EXPECT_EQ(sample_to_npy(s).shape, a.shape);
  a.dtype = "<f4";
  EXPECT_THROW(npy_to_image(a), error);
}

TEST(npy, malformed_files_are_invalid_input) {
  try {
    parse_npy("not numpy", "x.npy");
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), error_code::invalid_input);
    EXPECT_STREQ(e.what(), "x.npy: not a supported .npy file: missing the \\x93NUMPY magic");
  }
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  header += std::string((64 - (10 + header.size() + 1) % 64) % 64, ' ') + "\n";
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header;
  EXPECT_THROW(parse_npy(bytes + "1234", "short.npy"), error);
  EXPECT_EQ(parse_npy(bytes + "12345678", "ok.npy").shape, (std::vector<int64_t>{2}));
  EXPECT_THROW(load_npy("/nonexistent/x.npy"), error);
}

}  // namespace
}  // namespace ptjs
