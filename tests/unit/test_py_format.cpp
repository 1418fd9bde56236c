// Python-style number formatting used by repr().
#include "py_format.h"

#include <gtest/gtest.h>

namespace ptjs {
namespace {

TEST(py_format, floats_as_python_repr) {
  EXPECT_EQ(py_float(0.485), "0.485");
  EXPECT_EQ(py_float(1.0), "1.0");
  EXPECT_EQ(py_float(-2.5), "-2.5");
  EXPECT_EQ(py_float(1e-05), "1e-05");
  EXPECT_EQ(py_float(0.0001), "0.0001");
  EXPECT_EQ(py_float(1e16), "1e+16");
  EXPECT_EQ(py_float(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(py_float(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(py_list(std::vector<double>{0.229, 0.224}), "[0.229, 0.224]");
  EXPECT_EQ(py_tuple({224, 224}), "(224, 224)");
  EXPECT_EQ(py_list(std::vector<int>{7}), "[7]");
}

}  // namespace
}  // namespace ptjs
