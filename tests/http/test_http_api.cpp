// The API of `ptjs serve` through the real binary: every endpoint, the v2 codec, TorchServe
// bodies, every client error, batching, metrics, CORS and the OpenAPI document.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <thread>

#include "http_test_util.h"

namespace ptjs_test {
namespace {

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<server_process>(std::vector<std::string>{
        "serve", "--port", "0", "--model", digits_dir + "/model.pt", "--model", gen("linear.pt"), "--model",
        "raises=" + gen("raises.pt"), "--model", gen("raises_image.pt"), "--max-delay-ms", "30",
        "--max-image-pixels", "100000", "--max-body-bytes", "2000000", "--read-timeout-ms", "1000", "--cors",
        "https://app.example"});
    port_ = server_->wait_port();
    ready_ = port_ > 0 && server_->wait_ready(port_);
  }
  static void TearDownTestSuite() {
    server_->signal(SIGTERM);
    const int code = server_->wait_exit(std::chrono::seconds(20));
    if (code != 0) ADD_FAILURE() << "exit code " << code << "\n" << server_->stderr_text();
    server_.reset();
  }
  void SetUp() override { ASSERT_TRUE(ready_) << server_->stderr_text(); }
  void TearDown() override {
    if (HasFailure()) std::cerr << "--- server stderr ---\n" << server_->stderr_text();
  }
  static httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(std::chrono::seconds(30));
    return c;
  }
  static httplib::Result post_json(const std::string& path, const std::string& body) {
    return client().Post(path.c_str(), body, "application/json");
  }
  static void expect_error(const httplib::Result& res, int status, const std::string& fragment) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    const json body = json::parse(res->body);
    ASSERT_TRUE(body.contains("error")) << res->body;
    EXPECT_NE(body["error"].get<std::string>().find(fragment), std::string::npos) << res->body;
    EXPECT_EQ(res->body.find(source_dir), std::string::npos) << "a server path leaked: " << res->body;
    EXPECT_EQ(res->body.find(gen_dir), std::string::npos) << "a server path leaked: " << res->body;
  }

  static std::unique_ptr<server_process> server_;
  static int port_;
  static bool ready_;
};

std::unique_ptr<server_process> Serve::server_;
int Serve::port_ = -1;
bool Serve::ready_ = false;

TEST_F(Serve, HealthAndServerMetadata) {
  auto c = client();
  auto live = c.Get("/v2/health/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  EXPECT_EQ(c.Get("/v2/health/ready")->status, 200);
  auto ping = c.Get("/ping");
  ASSERT_TRUE(ping) << httplib::to_string(ping.error());
  EXPECT_EQ(ping->status, 200);
  EXPECT_EQ(parse(ping)["status"], "Healthy");
  auto meta = c.Get("/v2");
  ASSERT_TRUE(meta) << httplib::to_string(meta.error());
  ASSERT_EQ(meta->status, 200);
  EXPECT_EQ(parse(meta)["name"], "ptjs");
  EXPECT_FALSE(parse(meta)["version"].get<std::string>().empty());
  EXPECT_EQ(parse(meta)["extensions"], json({"binary_tensor_data"}));
  const std::string err = server_->stderr_text();
  EXPECT_LT(err.find("listening on"), err.find("ready (")) << "listening starts before the models are ready";
  // The warm-up batch chose how each model runs (model.h): the digits CNN frozen with
  // channels-last weights and input, the linear tensor model frozen.
  EXPECT_NE(err.find("model 'digits' ready: input 'x' FP32 [-1, 1, 28, 28]"), std::string::npos) << err;
  // Without --threads, an image model gets one lane per core (serve.cpp), each forward on one
  // thread; a tensor model one lane.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::string lanes = " " + std::to_string(cores) + (cores == 1 ? " lane" : " lanes");
  EXPECT_NE(err.find(lanes + "; runs frozen, channels-last\n"), std::string::npos) << err;
  EXPECT_NE(err.find(" 1 lane; runs frozen\n"), std::string::npos) << err;
}

TEST_F(Serve, ModelMetadataFromPipelineAndSpec) {
  auto c = client();
  auto digits = c.Get("/v2/models/digits");
  ASSERT_TRUE(digits) << httplib::to_string(digits.error());
  ASSERT_EQ(digits->status, 200);
  const json d = parse(digits);
  EXPECT_EQ(d["platform"], "pytorch_torchscript");
  EXPECT_EQ(d["inputs"], json::parse(R"([{"name":"x","datatype":"FP32","shape":[-1,1,28,28]}])"));
  EXPECT_EQ(d["outputs"], json::parse(R"([{"name":"output0","datatype":"FP32","shape":[-1,10]}])"));
  auto linear = c.Get("/v2/models/linear");
  ASSERT_TRUE(linear) << httplib::to_string(linear.error());
  ASSERT_EQ(linear->status, 200);
  EXPECT_EQ(parse(linear)["inputs"], json::parse(R"([{"name":"x","datatype":"FP32","shape":[-1,4]}])"));
  EXPECT_EQ(parse(linear)["outputs"], json::parse(R"([{"name":"output0","datatype":"FP32","shape":[-1,3]}])"));
  EXPECT_EQ(c.Get("/v2/models/digits/ready")->status, 200);
  EXPECT_EQ(c.Get("/v2/models/raises/ready")->status, 200);
}

TEST_F(Serve, UnknownModelIs404Everywhere) {
  auto c = client();
  expect_error(c.Get("/v2/models/nope"), 404, "no model named 'nope'");
  expect_error(c.Get("/v2/models/nope/ready"), 404, "nope");
  expect_error(post_json("/v2/models/nope/infer", v2_fp32("x", {1, 4}, {1, 2, 3, 4})), 404, "nope");
  expect_error(c.Post("/predictions/nope", "x", "image/png"), 404, "nope");
  // A path is never loaded as a model.
  expect_error(c.Get("/v2/models/..%2F..%2Fetc%2Fpasswd"), 404, "");
}

TEST_F(Serve, UnknownPathAndMethod) {
  auto c = client();
  expect_error(c.Get("/v3/nothing"), 404, "no such endpoint");
  auto del = c.Delete("/v2/models/linear");
  expect_error(del, 405, "not allowed");
  EXPECT_NE(del->get_header_value("Allow").find("GET"), std::string::npos);
  expect_error(c.Get("/v2/models/linear/infer"), 405, "not allowed");
}

TEST_F(Serve, InferJsonNestedAndFlat) {
  auto res = post_json("/v2/models/linear/infer",
                       json::parse(R"({"id":"r1","inputs":[{"name":"x","shape":[2,4],"datatype":"FP32",
                                     "data":[[1,2,3,4],[0,0,0,0]]}]})").dump());
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = parse(res);
  EXPECT_EQ(body["model_name"], "linear");
  EXPECT_EQ(body["id"], "r1");
  ASSERT_EQ(body["outputs"].size(), 1u);
  EXPECT_EQ(body["outputs"][0]["name"], "output0");
  EXPECT_EQ(body["outputs"][0]["shape"], json({2, 3}));
  EXPECT_EQ(body["outputs"][0]["datatype"], "FP32");
  EXPECT_EQ(body["outputs"][0]["data"], json({1.5, 1.5, 10, 0.5, -0.5, 0}));
  auto flat = post_json("/v2/models/linear/infer", v2_fp32("x", {1, 4}, {1, 1, 1, 1}));
  ASSERT_TRUE(flat) << httplib::to_string(flat.error());
  ASSERT_EQ(flat->status, 200);
  EXPECT_EQ(parse(flat)["outputs"][0]["data"], json({1.5, 0.5, 4}));
}

TEST_F(Serve, InferBinaryInputAndBinaryOutput) {
  const std::string header =
      R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}],)"
      R"("parameters":{"binary_data_output":true}})";
  httplib::Headers h = {{"Inference-Header-Content-Length", std::to_string(header.size())}};
  auto res = client().Post("/v2/models/linear/infer", h, header + bytes_of({1, 2, 3, 4}), "application/octet-stream");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  const size_t length = std::stoul(res->get_header_value("Inference-Header-Content-Length"));
  const json head = json::parse(res->body.substr(0, length));
  EXPECT_EQ(head["outputs"][0]["parameters"]["binary_data_size"], 12);
  EXPECT_FALSE(head["outputs"][0].contains("data"));
  EXPECT_EQ(floats_of(res->body.substr(length)), (std::vector<float>{1.5f, 1.5f, 10.f}));
}

TEST_F(Serve, InferPerOutputBinaryAndOutputFilter) {
  json req = json::parse(v2_fp32("x", {1, 4}, {1, 2, 3, 4}));
  req["outputs"] = json::parse(R"([{"name":"output0","parameters":{"binary_data":true}}])");
  auto res = post_json("/v2/models/linear/infer", req.dump());
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/octet-stream");
  const size_t length = std::stoul(res->get_header_value("Inference-Header-Content-Length"));
  EXPECT_EQ(res->body.size(), length + 12);
  req["outputs"] = json::parse(R"([{"name":"output9"}])");
  expect_error(post_json("/v2/models/linear/infer", req.dump()), 400, "no output 'output9'");
}

TEST_F(Serve, InferClientErrorsAre400WithReasons) {
  const std::string infer = "/v2/models/linear/infer";
  expect_error(post_json(infer, "{not json"), 400, "not valid JSON");
  expect_error(post_json(infer, R"({"inputs":[]})"), 400, "'inputs'");
  expect_error(post_json(infer, v2_fp32("x", {1, 5}, {1, 2, 3, 4, 5})), 400,
               "input 'x': expected shape [-1, 4] (-1: any size), got [1, 5]");
  expect_error(post_json(infer, R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"INT64","data":[1,2,3,4]}]})"), 400,
               "input 'x': expected datatype FP32, got INT64");
  expect_error(post_json(infer, v2_fp32("y", {1, 4}, {1, 2, 3, 4})), 400, "input 'x' is missing");
  expect_error(post_json(infer, v2_fp32("x", {1, 4}, {1, 2, 3})), 400, "needs 4 values, got 3");
  expect_error(post_json(infer, v2_fp32("x", {1, 4}, {1, 2, "a", 4})), 400, "expected a number");
  expect_error(post_json(infer, R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP99","data":[1,2,3,4]}]})"), 400,
               "unknown datatype 'FP99'");
  httplib::Headers h = {{"Inference-Header-Content-Length", "999"}};
  expect_error(client().Post(infer.c_str(), h, "{}", "application/octet-stream"), 400, "larger than the body");
  json extra = json::parse(v2_fp32("x", {1, 4}, {1, 2, 3, 4}));
  extra["inputs"].push_back({{"name", "z"}, {"shape", {1}}, {"datatype", "FP32"}, {"data", {1}}});
  expect_error(post_json(infer, extra.dump()), 400, "has no input 'z'");
}

TEST_F(Serve, InferImagesAsBytesJsonAndBinary) {
  const auto images = digit_images(3);
  json data = json::array();
  for (const auto& im : images) data.push_back(base64(read_file(im.path)));
  const json req = {{"inputs", {{{"name", "x"}, {"shape", {images.size()}}, {"datatype", "BYTES"}, {"data", data}}}}};
  auto res = post_json("/v2/models/digits/infer", req.dump());
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  const json out = parse(res)["outputs"][0];
  EXPECT_EQ(out["shape"], json({images.size(), 10}));
  for (size_t i = 0; i < images.size(); ++i) EXPECT_EQ(digit_labels()[argmax(out["data"], i * 10, 10)], images[i].label);

  // The binary extension: each BYTES element is a 4-byte little-endian length and raw bytes.
  std::string binary;
  for (const auto& im : images) {
    const std::string bytes = read_file(im.path);
    const uint32_t n = static_cast<uint32_t>(bytes.size());
    binary += std::string(reinterpret_cast<const char*>(&n), 4) + bytes;
  }
  const std::string header = json{{"inputs",
                                   {{{"name", "x"},
                                     {"shape", {images.size()}},
                                     {"datatype", "BYTES"},
                                     {"parameters", {{"binary_data_size", binary.size()}}}}}}}
                                 .dump();
  httplib::Headers h = {{"Inference-Header-Content-Length", std::to_string(header.size())}};
  auto bin = client().Post("/v2/models/digits/infer", h, header + binary, "application/octet-stream");
  ASSERT_TRUE(bin) << httplib::to_string(bin.error());
  ASSERT_EQ(bin->status, 200) << bin->body;
  const json bout = parse(bin)["outputs"][0];
  for (size_t i = 0; i < images.size(); ++i) EXPECT_EQ(digit_labels()[argmax(bout["data"], i * 10, 10)], images[i].label);

  const json bad = {{"inputs", {{{"name", "x"}, {"shape", {1}}, {"datatype", "BYTES"}, {"data", {base64("not an image")}}}}}};
  expect_error(post_json("/v2/models/digits/infer", bad.dump()), 400, "cannot decode image");
}

TEST_F(Serve, InferImageModelTakesItsTensorToo) {
  auto res = post_json("/v2/models/digits/infer", v2_fp32("x", {1, 1, 28, 28}, json(std::vector<float>(784, 0.f))));
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(parse(res)["outputs"][0]["shape"], json({1, 10}));
  expect_error(post_json("/v2/models/digits/infer", v2_fp32("x", {1, 3, 28, 28}, json(std::vector<float>(2352, 0.f)))),
               400, "expected shape [-1, 1, 28, 28]");
}

TEST_F(Serve, PredictionsRawBodyMatchesTorchvision) {
  auto c = client();
  for (const auto& im : digit_images(12)) {
    auto res = c.Post("/predictions/digits", read_file(im.path), "image/png");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    ASSERT_EQ(res->status, 200) << res->body;
    const json body = parse(res);
    EXPECT_FALSE(body.contains("file"));
    ASSERT_EQ(body["predictions"].size(), 3u) << res->body;
    EXPECT_EQ(body["predictions"][0]["label"], im.label) << im.path;
    EXPECT_NEAR(body["predictions"][0]["score"].get<double>(), im.score, 1e-4) << im.path;
  }
}

TEST_F(Serve, PredictionsMultipartKeepsPartOrder) {
  const auto images = digit_images(40);
  const auto& a = images[0];
  const auto& b = images.back();
  ASSERT_NE(a.label, b.label);
  httplib::MultipartFormDataItems items = {{"zfile", read_file(a.path), "a.png", "image/png"},
                                           {"afile", read_file(b.path), "b.png", "image/png"}};
  auto res = client().Post("/predictions/digits", items);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = parse(res);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0]["predictions"][0]["label"], a.label);
  EXPECT_EQ(body[1]["predictions"][0]["label"], b.label);
  httplib::MultipartFormDataItems one = {{"data", read_file(a.path), "a.png", "image/png"}};
  auto single = client().Post("/predictions/digits", one);
  ASSERT_TRUE(single) << httplib::to_string(single.error());
  ASSERT_EQ(single->status, 200);
  EXPECT_TRUE(parse(single).is_object());
}

TEST_F(Serve, PredictionsJsonBase64AndJpeg) {
  const auto im = digit_images(1)[0];
  auto obj = post_json("/predictions/digits", json{{"b64", base64(read_file(im.path))}}.dump());
  ASSERT_TRUE(obj) << httplib::to_string(obj.error());
  ASSERT_EQ(obj->status, 200) << obj->body;
  EXPECT_EQ(parse(obj)["predictions"][0]["label"], im.label);
  auto arr = post_json("/predictions/digits", json::array({{{"b64", base64(read_file(im.path))}}}).dump());
  ASSERT_TRUE(arr) << httplib::to_string(arr.error());
  ASSERT_EQ(arr->status, 200);
  EXPECT_TRUE(parse(arr).is_array());
  auto jpeg = client().Post("/predictions/digits", read_file(gen("small.jpg")), "image/jpeg");
  ASSERT_TRUE(jpeg) << httplib::to_string(jpeg.error());
  ASSERT_EQ(jpeg->status, 200) << jpeg->body;
  EXPECT_EQ(parse(jpeg)["predictions"].size(), 3u);
  expect_error(post_json("/predictions/digits", R"({"image":"x"})"), 400, "b64");
  expect_error(post_json("/predictions/digits", R"({"b64":"%%%"})"), 400, "invalid base64");
}

TEST_F(Serve, PredictionsErrors) {
  auto c = client();
  expect_error(c.Post("/predictions/digits", "this is not an image", "application/octet-stream"), 400,
               "cannot decode image");
  expect_error(c.Post("/predictions/digits", read_file(gen("big.jpg")), "image/jpeg"), 413, "pixels");
  expect_error(c.Post("/predictions/digits", std::string(2100000, 'x'), "application/octet-stream"), 413,
               "over the limit");
  expect_error(c.Post("/predictions/linear", "x", "image/png"), 400, "takes tensors");
  httplib::MultipartFormDataItems items = {{"good", read_file(digit_images(1)[0].path), "a.png", "image/png"},
                                           {"bad", "garbage", "b.png", "image/png"}};
  expect_error(c.Post("/predictions/digits", items), 400, "part 'bad' (b.png)");
  // The server is still fine.
  EXPECT_EQ(c.Get("/v2/health/ready")->status, 200);
}

TEST_F(Serve, ModelThatThrowsIs500AndServerGoesOn) {
  auto res = post_json("/v2/models/raises/infer", v2_fp32("x", {1, 4}, {1, -2, 3, 4}));
  expect_error(res, 500, "model forward failed");
  auto ok = post_json("/v2/models/raises/infer", v2_fp32("x", {1, 4}, {1, 2, 3, 4}));
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  ASSERT_EQ(ok->status, 200);
  EXPECT_EQ(parse(ok)["outputs"][0]["data"], json({2, 4, 6, 8}));
  expect_error(client().Post("/predictions/raises_image", read_file(gen("white.png")), "image/png"), 500,
               "model forward failed");
}

TEST_F(Serve, BadInputFailsOnlyItsOwnRequestInABatch) {
  std::vector<std::future<httplib::Result>> pending;
  for (int i = 0; i < 8; ++i) {
    const float sign = i % 2 ? -1.f : 1.f;
    pending.push_back(std::async(std::launch::async, [=] {
      return post_json("/v2/models/raises/infer", v2_fp32("x", {1, 4}, {sign * i, 1, 1, 1}));
    }));
  }
  for (int i = 0; i < 8; ++i) {
    auto res = pending[i].get();
    ASSERT_TRUE(res);
    if (i % 2) {
      ASSERT_TRUE(res) << httplib::to_string(res.error());
      EXPECT_EQ(res->status, 500) << res->body;
    } else {
      ASSERT_TRUE(res) << httplib::to_string(res.error());
      ASSERT_EQ(res->status, 200) << res->body;
      EXPECT_EQ(parse(res)["outputs"][0]["data"], json({2.0 * i, 2, 2, 2}));
    }
  }
}

TEST_F(Serve, ConcurrentRequestsAreBatched) {
  const auto images = digit_images(32);
  std::vector<std::future<httplib::Result>> pending;
  for (int round = 0; round < 2; ++round)
    for (const auto& im : images)
      pending.push_back(std::async(std::launch::async, [&im] {
        return client().Post("/predictions/digits", read_file(im.path), "image/png");
      }));
  for (size_t i = 0; i < pending.size(); ++i) {
    auto res = pending[i].get();
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(parse(res)["predictions"][0]["label"], images[i % images.size()].label);
  }
  const std::string text = client().Get("/metrics")->body;
  const auto value = [&](const std::string& series) {
    const size_t at = text.find(series + " ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + series.size() + 1));
  };
  const double batches = value("ptjs_batch_size_count{model=\"digits\"}");
  const double singles = value("ptjs_batch_size_bucket{model=\"digits\",le=\"1\"}");
  EXPECT_GT(batches - singles, 0) << "no forward ran more than one image:\n" << text;
}

TEST_F(Serve, MetricsExposition) {
  client().Post("/predictions/digits", read_file(digit_images(1)[0].path), "image/png");
  auto res = client().Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain", 0), 0u);
  for (const char* series :
       {"ptjs_requests_total{model=\"digits\",endpoint=\"predictions\",code=\"200\"}",
        "ptjs_request_duration_seconds_bucket{model=\"digits\",le=\"+Inf\"}",
        "ptjs_queue_duration_seconds_count{model=\"digits\"}", "ptjs_preprocess_duration_seconds_sum{model=\"digits\"}",
        "ptjs_inference_duration_seconds_bucket{model=\"linear\",le=\"0.001\"}", "ptjs_batch_size_count{model=\"digits\"}",
        "ptjs_queue_depth{model=\"digits\"} 0", "ptjs_model_ready{model=\"linear\"} 1", "ptjs_in_flight_requests ",
        "# TYPE ptjs_batch_size histogram"})
    EXPECT_NE(res->body.find(series), std::string::npos) << series << "\n" << res->body;
}

TEST_F(Serve, CorsPreflightAndHeaders) {
  auto c = client();
  httplib::Headers h = {{"Origin", "https://app.example"},
                        {"Access-Control-Request-Method", "POST"},
                        {"Access-Control-Request-Headers", "authorization, content-type"}};
  auto pre = c.Options("/v2/models/digits/infer", h);
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  auto get = c.Get("/v2", {{"Origin", "https://app.example"}});
  EXPECT_EQ(get->get_header_value("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_NE(get->get_header_value("Access-Control-Expose-Headers").find("Inference-Header-Content-Length"),
            std::string::npos);
  EXPECT_NE(get->get_header_value("Access-Control-Expose-Headers").find("Server-Timing"), std::string::npos);
  auto missing = c.Get("/v2/models/nope");
  EXPECT_EQ(missing->get_header_value("Access-Control-Allow-Origin"), "https://app.example");
}

TEST_F(Serve, OpenApiDocumentsEveryPathAndEachWorks) {
  auto res = client().Get("/openapi.json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200);
  const json doc = parse(res);
  EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.", 0), 0u);
  std::set<std::string> paths, operation_ids;
  // Named copies, not structured bindings: the lambda below captures them (C++20, or clang >= 16).
  for (const auto& path_item : doc["paths"].items()) {
    const std::string path = path_item.key();
    paths.insert(path);
    for (const auto& method_item : path_item.value().items()) {
      const std::string method = method_item.key();
      EXPECT_TRUE(method_item.value().contains("responses")) << path;
      EXPECT_TRUE(operation_ids.insert(method_item.value().value("operationId", "")).second)
          << "operationId not unique: " << method << " " << path;
      const bool image = path.rfind("/predictions/", 0) == 0;
      std::string p = path;
      for (const auto& [param, value] : {std::pair<std::string, std::string>{"{model}", image ? "digits" : "linear"},
                                         {"{version}", "1"},
                                         {"{asset}", "app.js"}})
        if (const auto at = p.find(param); at != std::string::npos) p.replace(at, param.size(), value);
      const auto call = [&]() -> httplib::Result {
        if (method == "get") return client().Get(p.c_str());
        const std::string body = image ? read_file(digit_images(1)[0].path) : v2_fp32("x", {1, 4}, {1, 2, 3, 4});
        const char* type = image ? "image/png" : "application/json";
        if (method == "post" && (image || path.find("/infer") != std::string::npos)) return client().Post(p.c_str(), body, type);
        if (method == "put" && image) return client().Put(p.c_str(), body, type);
        if (method == "post" && path == "/v2/repository/index") return client().Post(p.c_str(), "", "application/json");
        ADD_FAILURE() << "a documented path this test does not know: " << method << " " << path;
        return client().Get("/");
      };
      auto r = call();
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 200) << method << " " << path << ": " << r->body;
    }
  }
  const std::set<std::string> served = {"/v2/health/live",
                                        "/v2/health/ready",
                                        "/v2",
                                        "/v2/models/{model}",
                                        "/v2/models/{model}/ready",
                                        "/v2/models/{model}/infer",
                                        "/v2/models/{model}/versions/{version}",
                                        "/v2/models/{model}/versions/{version}/ready",
                                        "/v2/models/{model}/versions/{version}/infer",
                                        "/predictions/{model}",
                                        "/predictions/{model}/{version}",
                                        "/ping",
                                        "/metrics",
                                        "/openapi.json",
                                        "/v2/models/{model}/config",
                                        "/v2/repository/index",
                                        "/",
                                        "/ui/{asset}"};
  EXPECT_EQ(paths, served);
}

// Server-Timing: "read;dur=X, decode;dur=X, preprocess;dur=X, queue;dur=X, forward;dur=X, total;dur=X".
std::map<std::string, double> server_timing(const httplib::Result& res) {
  std::map<std::string, double> out;
  const std::string header = res->get_header_value("Server-Timing");
  size_t begin = 0;
  while (begin < header.size()) {
    const size_t end = std::min(header.find(',', begin), header.size());
    const std::string entry = header.substr(begin, end - begin);
    const size_t dur = entry.find(";dur=");
    if (dur != std::string::npos) {
      const size_t name_begin = entry.find_first_not_of(' ');
      out[entry.substr(name_begin, dur - name_begin)] = std::stod(entry.substr(dur + 5));
    }
    begin = end + 1;
  }
  return out;
}

TEST_F(Serve, ServerTimingOnEveryInferenceAnswer) {
  const std::string png = read_file(digit_images(1)[0].path);
  // `decoded`: the request held an image; `answered`: it reached a forward.
  const auto check = [](const std::string& what, const httplib::Result& res, bool decoded, bool answered) {
    ASSERT_TRUE(res) << what;
    const auto timing = server_timing(res);
    ASSERT_EQ(timing.size(), 6u) << what << ": " << res->get_header_value("Server-Timing");
    for (const char* stage : {"read", "decode", "preprocess", "queue", "forward", "total"})
      ASSERT_TRUE(timing.count(stage)) << what << " has no " << stage;
    EXPECT_GE(timing.at("total"), timing.at("read") + timing.at("decode") + timing.at("preprocess")) << what;
    EXPECT_EQ(timing.at("decode") > 0, decoded) << what;
    EXPECT_EQ(timing.at("forward") > 0, answered) << what;
    EXPECT_GE(timing.at("total"), timing.at("forward")) << what;
  };
  check("predictions", client().Post("/predictions/digits", png, "image/png"), true, true);
  const json bytes = {{"inputs", {{{"name", "x"}, {"shape", {1}}, {"datatype", "BYTES"}, {"data", {base64(png)}}}}}};
  check("infer BYTES", post_json("/v2/models/digits/infer", bytes.dump()), true, true);
  check("infer tensor", post_json("/v2/models/linear/infer", v2_fp32("x", {1, 4}, {1, 2, 3, 4})), false, true);
  check("error", post_json("/v2/models/linear/infer", v2_fp32("x", {1, 5}, {1, 2, 3, 4, 5})), false, false);
  EXPECT_FALSE(client().Get("/v2/models/linear")->has_header("Server-Timing"));
}

TEST_F(Serve, ModelConfigAndRepositoryIndex) {
  auto res = client().Get("/v2/models/digits/config");
  ASSERT_EQ(res->status, 200) << res->body;
  const json config = parse(res);
  EXPECT_EQ(config["name"], "digits");
  EXPECT_EQ(config["input"], json({{"type", "image"}, {"mode", "L"}}));
  EXPECT_EQ(config["labels"].size(), 10u);
  EXPECT_EQ(config["labels"][3], "three");
  // The pipeline as YAML, as the spec gives it.
  const std::string yaml = config["preprocess"];
  EXPECT_NE(yaml.find("Resize"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("Normalize"), std::string::npos) << yaml;
  EXPECT_EQ(config["inputs"], parse(client().Get("/v2/models/digits"))["inputs"]);
  const json tensor = parse(client().Get("/v2/models/linear/config"));
  EXPECT_EQ(tensor["input"]["type"], "tensor");
  EXPECT_EQ(tensor["preprocess"], "");
  expect_error(client().Get("/v2/models/nope/config"), 404, "no model named 'nope'");

  auto index = client().Post("/v2/repository/index", "", "application/json");
  ASSERT_EQ(index->status, 200);
  std::set<std::string> names;
  for (const auto& entry : parse(index)) {
    EXPECT_EQ(entry["state"], "READY") << entry;
    names.insert(entry["name"].get<std::string>());
  }
  EXPECT_EQ(names, (std::set<std::string>{"digits", "linear", "raises", "raises_image"}));
}

TEST_F(Serve, PageAndItsFilesAreEmbeddedAndSelfContained) {
  auto page = client().Get("/");
  ASSERT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("data-api-key=\"optional\""), std::string::npos);
  // Nothing the page loads may come from another origin.
  const std::string csp = page->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos) << csp;
  for (const auto& [file, type] : {std::pair<std::string, std::string>{"app.js", "text/javascript"},
                                   {"app.css", "text/css"}, {"icon.svg", "image/svg+xml"}, {"digit-3.png", "image/png"}}) {
    auto res = client().Get("/ui/" + file);
    ASSERT_EQ(res->status, 200) << file;
    EXPECT_EQ(res->get_header_value("Content-Type").rfind(type, 0), 0u) << file;
    EXPECT_GT(res->body.size(), 100u) << file;
    if (type.rfind("text/", 0) != 0) continue;
    for (const char* scheme : {"http://", "https://", "//cdn"})
      EXPECT_EQ(res->body.find(scheme), std::string::npos) << file << " names a URL: " << scheme;
  }
  EXPECT_EQ(client().Get("/ui/digit-3.png")->body, read_file(digits_dir + "/images/three/0045.png"));
  expect_error(client().Get("/ui/nope.js"), 404, "no file 'nope.js'");
  expect_error(client().Get("/ui/index.html"), 404, "no file");
}

// What Triton's and TorchServe's clients send besides the plain paths: the v2 protocol's
// /versions/{v} paths (the one version metadata lists), and PUT on /predictions (`curl -T`).
TEST_F(Serve, VersionedPathsAndPutPredictions) {
  auto c = client();
  const std::string request = v2_fp32("x", {1, 4}, {1, 2, 3, 4});
  auto plain = post_json("/v2/models/linear/infer", request);
  auto versioned = post_json("/v2/models/linear/versions/1/infer", request);
  ASSERT_TRUE(plain && versioned);
  ASSERT_EQ(versioned->status, 200) << versioned->body;
  EXPECT_EQ(json::parse(versioned->body)["outputs"], json::parse(plain->body)["outputs"]);
  EXPECT_EQ(json::parse(c.Get("/v2/models/linear/versions/1")->body), json::parse(c.Get("/v2/models/linear")->body));
  EXPECT_EQ(c.Get("/v2/models/linear/versions/1/ready")->status, 200);
  expect_error(post_json("/v2/models/linear/versions/2/infer", request), 404, "no version '2'");
  expect_error(c.Get("/v2/models/linear/versions/latest"), 404, "versions: 1");
  expect_error(c.Get("/v2/models/nope/versions/1"), 404, "no model named 'nope'");

  const std::string png = read_file(digit_images(1)[0].path);
  auto posted = c.Post("/predictions/digits", png, "image/png");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 200) << posted->body;
  for (const char* path : {"/predictions/digits", "/predictions/digits/1"}) {
    auto put = c.Put(path, png, "application/octet-stream");
    ASSERT_TRUE(put) << path;
    ASSERT_EQ(put->status, 200) << path << ": " << put->body;
    EXPECT_EQ(json::parse(put->body), json::parse(posted->body)) << path;
  }
  expect_error(c.Put("/predictions/digits/2.0", png, "image/png"), 404, "no version '2.0'");
  expect_error(c.Put("/v2/models/linear/infer", request, "application/json"), 405, "allowed: POST");
}

// Triton's classification extension: outputs[].parameters.classification = N answers each
// row's top N as BYTES "value:index:label" (labels from the spec; "value:index" without), in
// JSON or, asked for, in the binary part (each element length-prefixed).
TEST_F(Serve, ClassificationExtensionAnswersTopClassesAsStrings) {
  const auto images = digit_images(2);
  json data = json::array();
  for (const auto& im : images) data.push_back(base64(read_file(im.path)));
  const json input = {{"name", "x"}, {"shape", {images.size()}}, {"datatype", "BYTES"}, {"data", data}};
  auto raw = post_json("/v2/models/digits/infer", json{{"inputs", {input}}}.dump());
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->status, 200) << raw->body;
  const auto logits = parse(raw)["outputs"][0]["data"].get<std::vector<float>>();
  ASSERT_EQ(logits.size(), 20u);
  // What the answer must hold, from the plain output: the three highest of each row, as
  // "value:index:label". The two images of a request may run in one batch or in two, and the
  // digits model's logits then differ in the last float bits: values are compared within 1e-4,
  // classes and their order exactly.
  struct top_class {
    double value;
    std::string index_and_label;
  };
  std::vector<top_class> want;
  const auto& names = digit_labels();
  for (size_t row = 0; row < 2; ++row) {
    std::vector<int> order(10);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[row * 10 + a] > logits[row * 10 + b]; });
    for (int k = 0; k < 3; ++k)
      want.push_back({logits[row * 10 + order[k]], std::to_string(order[k]) + ":" + names[order[k]]});
  }
  EXPECT_EQ(want[0].index_and_label.substr(want[0].index_and_label.find(':') + 1), images[0].label);
  const auto expect_top_classes = [&](const std::vector<std::string>& got) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      const size_t colon = got[i].find(':');
      ASSERT_NE(colon, std::string::npos) << got[i];
      const std::string value = got[i].substr(0, colon);
      // printf's %f: six decimals.
      EXPECT_EQ(value.size() - value.find('.'), 7u) << got[i];
      EXPECT_NEAR(std::stod(value), want[i].value, 1e-4) << got[i];
      EXPECT_EQ(got[i].substr(colon + 1), want[i].index_and_label);
    }
  };

  const json asked = {{"inputs", {input}}, {"outputs", {{{"name", "output0"}, {"parameters", {{"classification", 3}}}}}}};
  auto res = post_json("/v2/models/digits/infer", asked.dump());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json out = parse(res)["outputs"][0];
  EXPECT_EQ(out["datatype"], "BYTES");
  EXPECT_EQ(out["shape"], (json{2, 3}));
  expect_top_classes(out["data"].get<std::vector<std::string>>());

  json binary = asked;
  binary["outputs"][0]["parameters"]["binary_data"] = true;
  auto bin = post_json("/v2/models/digits/infer", binary.dump());
  ASSERT_TRUE(bin);
  ASSERT_EQ(bin->status, 200) << bin->body;
  const size_t head = std::stoul(bin->get_header_value("Inference-Header-Content-Length"));
  const json header = json::parse(bin->body.substr(0, head));
  const std::string rest = bin->body.substr(head);
  EXPECT_EQ(header["outputs"][0]["parameters"]["binary_data_size"], rest.size());
  std::vector<std::string> elements;
  for (size_t at = 0; at + 4 <= rest.size();) {
    uint32_t n = 0;
    for (int b = 0; b < 4; ++b) n |= static_cast<uint32_t>(static_cast<unsigned char>(rest[at + b])) << (8 * b);
    elements.push_back(rest.substr(at + 4, n));
    at += 4 + n;
  }
  expect_top_classes(elements);

  // No labels: "value:index"; equal values keep the lower index first. linear([1, 2, 3, 4]) = [1.5, 1.5, 10].
  const json linear = {{"inputs", {{{"name", "x"}, {"shape", {1, 4}}, {"datatype", "FP32"}, {"data", {1, 2, 3, 4}}}}},
                       {"outputs", {{{"name", "output0"}, {"parameters", {{"classification", 5}}}}}}};
  auto plain = post_json("/v2/models/linear/infer", linear.dump());
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->status, 200) << plain->body;
  EXPECT_EQ(parse(plain)["outputs"][0]["data"], (json{"10.000000:2", "1.500000:0", "1.500000:1"}));
  EXPECT_EQ(parse(plain)["outputs"][0]["shape"], (json{1, 3}));

  json zero = linear;
  zero["outputs"][0]["parameters"]["classification"] = 0;
  expect_error(post_json("/v2/models/linear/infer", zero.dump()), 400, "'classification' must be a positive integer");
}

TEST_F(Serve, KeepAliveConnectionServesSeveralRequests) {
  auto c = client();
  c.set_keep_alive(true);
  for (int i = 0; i < 5; ++i) {
    auto res = post_json("/v2/models/linear/infer", v2_fp32("x", {1, 4}, {1, 2, 3, 4}));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(c.Get("/v2/health/live")->status, 200);
  }
}

TEST_F(Serve, SlowClientIsDropped) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string head = "POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inp";
  ASSERT_EQ(::send(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto start = std::chrono::steady_clock::now();
  std::string got;
  char buf[1024];
  // The answer is enough: the connection itself may wait out the keep-alive timeout.
  for (ssize_t n; got.find("\r\n\r\n") == std::string::npos && (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    got.append(buf, static_cast<size_t>(n));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  EXPECT_LT(waited, 4.0) << "the server kept a stalled client (--read-timeout-ms 1000)";
  EXPECT_NE(got.find("400"), std::string::npos) << got;
}

}  // namespace
}  // namespace ptjs_test
