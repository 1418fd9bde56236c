// Python-style formatting for repr(): what torchvision's __repr__ prints for numbers and lists.
#pragma once

#include <string>
#include <vector>

namespace ptjs {

// repr() of a Python float: shortest round-trip digits, "1.0", "1e-05", "inf", "nan".
std::string py_float(double v);
// "[1, 2]" / "(1, 2)" / "[0.485, 0.456]".
std::string py_list(const std::vector<int>& v);
std::string py_tuple(const std::vector<int>& v);
std::string py_list(const std::vector<double>& v);

}  // namespace ptjs
