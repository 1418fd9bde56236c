// Shared helpers for the transforms tests: run torchvision reference cases (written by
// tests/parity/tv_reference.py into PTJS_TX_REF_DIR) through ptjs and compare.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "error.h"
#include "npy.h"
#include "registry.h"

#ifndef PTJS_TX_REF_DIR
#error "PTJS_TX_REF_DIR must name the folder tv_reference.py writes"
#endif

namespace ptjs::test {

inline std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

inline double element(const npy_array& a, size_t i) {
  if (a.dtype == "<f4") {
    float f;
    std::memcpy(&f, &a.data[i * 4], 4);
    return f;
  }
  return static_cast<uint8_t>(a.data[i]);
}

inline std::string yaml_text(const YAML::Node& n) {
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

inline const transform_registry& builtin_registry() {
  static const transform_registry r = [] {
    transform_registry reg;
    register_builtin_transforms(reg);
    return reg;
  }();
  return r;
}

struct parity_summary {
  size_t cases = 0, failures = 0, elements = 0;
  double max_abs = 0, sum_abs = 0;
};

// Runs one case; returns an empty string on success, else what went wrong with every detail.
inline std::string run_case(const YAML::Node& c, double tolerance, parity_summary& summary) {
  const std::string dir = PTJS_TX_REF_DIR;
  const std::string id = c["id"].as<std::string>();
  std::ostringstream why;
  why << "case " << id << "\n  preprocess: " << yaml_text(c["preprocess"]) << "\n";
  const npy_array input = load_npy(dir + "/" + c["input"].as<std::string>());
  why << "  input: " << shape_str(input.shape) << " " << input.dtype << "\n";
  try {
    const pipeline p = build_pipeline(c["preprocess"], builtin_registry(), "case:" + id);
    for (const auto& r : p.describe()) why << "  step: " << r << "\n";
    sample out;
    try {
      out = p.run(npy_to_image(input));
    } catch (const error& e) {
      if (c["error"]) return "";  // torchvision refused this input too
      why << "  ptjs threw: " << e.what() << "\n";
      return why.str();
    }
    if (c["error"]) {
      why << "  torchvision raised " << c["error"].as<std::string>() << " but ptjs did not\n";
      return why.str();
    }
    const npy_array got = sample_to_npy(out);
    const npy_array want = load_npy(dir + "/" + c["output"].as<std::string>());
    if (got.dtype != want.dtype || got.shape != want.shape) {
      why << "  got " << got.dtype << " " << shape_str(got.shape) << ", torchvision " << want.dtype << " "
          << shape_str(want.shape) << "\n";
      return why.str();
    }
    const size_t n = static_cast<size_t>(want.numel());
    double max_abs = 0, sum_abs = 0;
    size_t worst = 0;
    for (size_t i = 0; i < n; ++i) {
      const double d = std::fabs(element(got, i) - element(want, i));
      sum_abs += d;
      if (d > max_abs || std::isnan(d)) max_abs = d, worst = i;
    }
    summary.elements += n;
    summary.sum_abs += sum_abs;
    summary.max_abs = std::max(summary.max_abs, max_abs);
    if (!(max_abs <= tolerance)) {
      why << "  shape " << shape_str(want.shape) << " " << want.dtype << ": max abs diff " << max_abs
          << " (tolerance " << tolerance << "), mean abs diff " << sum_abs / static_cast<double>(n)
          << "; worst at flat index " << worst << ": ptjs " << element(got, worst) << ", torchvision "
          << element(want, worst) << "\n";
      return why.str();
    }
  } catch (const std::exception& e) {
    why << "  unexpected exception: " << e.what() << "\n";
    return why.str();
  }
  return "";
}

// Runs every case of a group of the manifest; one gtest failure per failing case (first 10).
inline void expect_group_matches_torchvision(const std::string& group) {
  const YAML::Node manifest = YAML::LoadFile(std::string(PTJS_TX_REF_DIR) + "/manifest.json");
  const YAML::Node g = manifest["groups"][group];
  ASSERT_TRUE(g.IsDefined()) << "no group " << group << " in the manifest";
  const double tolerance = g["tolerance"].as<double>();
  parity_summary s;
  for (const YAML::Node& c : g["cases"]) {
    ++s.cases;
    const std::string failure = run_case(c, tolerance, s);
    if (!failure.empty() && ++s.failures <= 10) ADD_FAILURE() << failure;
  }
  std::cout << "[parity] " << group << ": " << s.cases << " cases, " << s.failures << " failed, max abs diff "
            << s.max_abs << ", mean abs diff " << (s.elements ? s.sum_abs / static_cast<double>(s.elements) : 0.0)
            << " over " << s.elements << " values (tolerance " << tolerance << ")\n";
  EXPECT_GT(s.cases, 0u);
  EXPECT_EQ(s.failures, 0u);
}

// The error text build_pipeline throws for a YAML document's `preprocess`, or "" if none.
inline std::string pipeline_error(const std::string& yaml, const std::string& source = "configs/x.yaml") {
  try {
    const YAML::Node doc = YAML::Load(yaml);
    build_pipeline(doc["preprocess"], builtin_registry(), source);
  } catch (const error& e) {
    EXPECT_EQ(e.code(), error_code::invalid_config) << e.what();
    return e.what();
  }
  return "";
}

}  // namespace ptjs::test
