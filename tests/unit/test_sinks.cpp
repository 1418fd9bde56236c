#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runner.h"
#include "sinks.h"

namespace ptjs {
namespace {

TEST(sinks, json_quote_escapes_and_repairs_utf8) {
  EXPECT_EQ(json_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
  EXPECT_EQ(json_quote(std::string("x\x01y")), "\"x\\u0001y\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_quote("bad\xff"), "\"bad\xef\xbf\xbd\"");
  EXPECT_TRUE(nlohmann::json::parse(json_quote("z\xc3\x28")).is_string());
}

TEST(sinks, floats_print_shortest_round_trip) {
  EXPECT_EQ(format_float(0.1f), "0.1");
  EXPECT_EQ(format_float(1.0f), "1");
  EXPECT_EQ(std::stof(format_float(0.98123457f)), 0.98123457f);
  EXPECT_EQ(format_float(NAN), "NaN");
}

TEST(sinks, record_json_shapes) {
  record r;
  r.file = "a.png";
  r.predictions.push_back({3, "three", 0.5f});
  r.predictions.push_back({1, "", 0.25f});
  EXPECT_EQ(record_to_json(r),
            "{\"file\":\"a.png\",\"predictions\":[{\"index\":3,\"label\":\"three\",\"score\":0.5},{\"index\":1,\"score\":0.25}]}");
  record e;
  e.file = "b.jpg";
  e.error = "cannot decode image: empty file";
  EXPECT_EQ(record_to_json(e), "{\"file\":\"b.jpg\",\"error\":\"cannot decode image: empty file\"}");
}

TEST(sinks, non_finite_numbers_are_json_null) {
  host_tensor t;
  t.name = "output0";
  t.shape = {1, 3};
  const float values[] = {1.5f, NAN, -INFINITY};
  t.data.assign(reinterpret_cast<const char*>(values), reinterpret_cast<const char*>(values) + sizeof values);
  const auto text = tensor_to_json(t);
  EXPECT_EQ(text, "{\"name\":\"output0\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1.5,null,null]}");
  EXPECT_TRUE(nlohmann::json::parse(text).is_object());
}

TEST(sinks, csv_quotes_rfc4180) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  record r;
  r.file = "x,y.png";
  r.predictions.push_back({2, "two", 0.75f});
  EXPECT_EQ(record_to_csv(r), "\"x,y.png\",1,2,two,0.75,\n");
  record e;
  e.file = "z.png";
  e.error = "bad, very";
  EXPECT_EQ(record_to_csv(e), "z.png,,,,,\"bad, very\"\n");
}

std::string temp_path(const char* name) { return std::string(::testing::TempDir()) + name; }

TEST(runner, completed_files_reads_jsonl_and_cuts_partial_line) {
  const auto path = temp_path("ptjs_resume.jsonl");
  {
    std::ofstream out(path);
    out << "{\"file\":\"a.png\",\"predictions\":[]}\n{\"file\":\"b,\\\"c.png\",\"error\":\"x\"}\n{\"file\":\"half";
  }
  EXPECT_EQ(completed_files(path, "jsonl"), (std::vector<std::string>{"a.png", "b,\"c.png"}));
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().back(), '\n');
  std::remove(path.c_str());
}

TEST(runner, completed_files_reads_csv) {
  const auto path = temp_path("ptjs_resume.csv");
  {
    std::ofstream out(path);
    out << csv_header() << "a.png,1,2,two,0.5,\na.png,2,1,one,0.25,\n\"b,\n.png\",,,,,err\nc.pn";
  }
  EXPECT_EQ(completed_files(path, "csv"), (std::vector<std::string>{"a.png", "a.png", "b,\n.png"}));
  std::remove(path.c_str());
}

TEST(runner, list_inputs_walks_sorted_and_skips_non_images) {
  const std::string dir = temp_path("ptjs_list");
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/b " + dir + "/a && touch " + dir + "/b/2.jpg " + dir +
                         "/a/1.PNG " + dir + "/a/notes.txt " + dir + "/0.png && ln -s .. " + dir + "/a/loop")
                            .c_str()),
            0);
  const auto files = list_inputs({dir, "given.txt"});
  EXPECT_EQ(files, (std::vector<std::string>{dir + "/0.png", dir + "/a/1.PNG", dir + "/b/2.jpg", "given.txt"}));
}

}  // namespace
}  // namespace ptjs
