#include "py_format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ptjs {

std::string py_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  // Shortest precision that round-trips, as Python's repr does.
  char buf[40];
  int prec = 1;
  for (; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s(buf);
  const size_t epos = s.find('e');
  const int exp10 = std::atoi(s.c_str() + epos + 1);
  std::string digits;
  for (size_t i = 0; i < epos; ++i) {
    if (s[i] >= '0' && s[i] <= '9') digits += s[i];
  }
  const std::string sign = v < 0 ? "-" : "";
  if (exp10 < -4 || exp10 >= 16) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    return out + e;
  }
  if (exp10 < 0) return sign + "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
  const size_t int_digits = static_cast<size_t>(exp10) + 1;
  if (digits.size() <= int_digits) return sign + digits + std::string(int_digits - digits.size(), '0') + ".0";
  return sign + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

namespace {
template <typename T, typename F>
std::string join(const std::vector<T>& v, F fmt, const char* open, const char* close) {
  std::string out = open;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += fmt(v[i]);
  }
  if (v.size() == 1 && open[0] == '(') out += ",";
  return out + close;
}
}  // namespace

std::string py_list(const std::vector<int>& v) {
  return join(v, [](int x) { return std::to_string(x); }, "[", "]");
}
std::string py_tuple(const std::vector<int>& v) {
  return join(v, [](int x) { return std::to_string(x); }, "(", ")");
}
std::string py_list(const std::vector<double>& v) { return join(v, py_float, "[", "]"); }

}  // namespace ptjs
