#include "openapi.h"

#include <nlohmann/json.hpp>

namespace ptjs {
namespace {

using json = nlohmann::ordered_json;

json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

json json_content(const json& schema) { return {{"application/json", {{"schema", schema}}}}; }

json error_response(const std::string& description) {
  return {{"description", description}, {"content", json_content(ref("Error"))}};
}

// Every inference answer's Server-Timing header (W3C Server Timing).
json server_timing_header() {
  return {{"schema", {{"type", "string"}}},
          {"description",
           "where the time went, in ms: read (the body), decode, preprocess, queue, forward, total (\"read;dur=0.015, decode;dur=0.412, "
           "preprocess;dur=0.105, queue;dur=0.051, forward;dur=1.893, total;dur=2.71\"); for several images, decode "
           "and preprocess add up and queue and forward are the slowest image's"},
          {"example", "read;dur=0.015, decode;dur=0.412, preprocess;dur=0.105, queue;dur=0.051, forward;dur=1.893, total;dur=2.710"}};
}

json schemas() {
  json tensor_meta = {{"type", "object"},
                      {"required", {"name", "datatype", "shape"}},
                      {"properties",
                       {{"name", {{"type", "string"}}},
                        {"datatype", {{"type", "string"}, {"example", "FP32"}}},
                        {"shape", {{"type", "array"}, {"items", {{"type", "integer"}}}, {"description", "-1: any size"}}}}}};
  json tensor = {
      {"type", "object"},
      {"required", {"name", "datatype", "shape"}},
      {"properties",
       {{"name", {{"type", "string"}}},
        {"datatype",
         {{"type", "string"},
          {"enum", {"FP32", "FP64", "FP16", "BF16", "INT64", "INT32", "INT16", "INT8", "UINT8", "BOOL", "BYTES"}}}},
        {"shape", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
        {"data",
         {{"type", "array"},
          {"items", {}},
          {"description", "Row-major values, flat or nested. BYTES elements holding images are base64 strings."}}},
        {"parameters",
         {{"type", "object"},
          {"properties",
           {{"binary_data_size", {{"type", "integer"}, {"description", "the data follows the JSON header (binary extension)"}}},
            {"binary_data", {{"type", "boolean"}, {"description", "outputs only: answer this output in binary"}}},
            {"classification",
             {{"type", "integer"},
              {"minimum", 1},
              {"description",
               "outputs only (Triton's classification extension): answer each row's top N classes as BYTES "
               "\"value:index:label\" (\"value:index\" without labels) instead of the tensor"}}}}}}}}}};
  return {
      {"Error", {{"type", "object"}, {"required", {"error"}}, {"properties", {{"error", {{"type", "string"}}}}}}},
      {"ServerMetadata",
       {{"type", "object"},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"version", {{"type", "string"}}},
          {"extensions", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}}},
      {"TensorMetadata", tensor_meta},
      {"ModelMetadata",
       {{"type", "object"},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"versions", {{"type", "array"}, {"items", {{"type", "string"}}}}},
          {"platform", {{"type", "string"}, {"example", "pytorch_torchscript"}}},
          {"inputs", {{"type", "array"}, {"items", ref("TensorMetadata")}}},
          {"outputs", {{"type", "array"}, {"items", ref("TensorMetadata")}}}}}}},
      {"Tensor", tensor},
      {"InferRequest",
       {{"type", "object"},
        {"required", {"inputs"}},
        {"properties",
         {{"id", {{"type", "string"}}},
          {"parameters", {{"type", "object"}, {"properties", {{"binary_data_output", {{"type", "boolean"}}}}}}},
          {"inputs", {{"type", "array"}, {"items", ref("Tensor")}}},
          {"outputs",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties", {{"name", {{"type", "string"}}}, {"parameters", {{"type", "object"}}}}}}}}}}}}},
      {"InferResponse",
       {{"type", "object"},
        {"properties",
         {{"model_name", {{"type", "string"}}},
          {"model_version", {{"type", "string"}}},
          {"id", {{"type", "string"}}},
          {"outputs", {{"type", "array"}, {"items", ref("Tensor")}}}}}}},
      {"ModelConfig",
       {{"type", "object"},
        {"description", "What the model was loaded with (Triton's model configuration extension, ptjs's fields)."},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"platform", {{"type", "string"}}},
          {"input",
           {{"type", "object"},
            {"properties",
             {{"type", {{"type", "string"}, {"enum", {"image", "tensor"}}}},
              {"mode", {{"type", "string"}, {"description", "image models: RGB or L"}}}}}}},
          {"inputs", {{"type", "array"}, {"items", ref("TensorMetadata")}}},
          {"outputs", {{"type", "array"}, {"items", ref("TensorMetadata")}}},
          {"preprocess", {{"type", "string"}, {"description", "the pipeline as YAML (empty for tensor models)"}}},
          {"postprocess", {{"type", "array"}, {"items", {{"type", "object"}}}}},
          {"labels", {{"type", "array"}, {"items", {{"type", "string"}}}}},
          {"max_batch_size", {{"type", "integer"}}},
          {"max_delay_ms", {{"type", "integer"}}},
          {"lanes", {{"type", "integer"}}},
          {"runs", {{"type", "string"}, {"description", "how forwards run: frozen, channels-last, ..."}}}}}}},
      {"RepositoryEntry",
       {{"type", "object"},
        {"required", {"name", "state"}},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"version", {{"type", "string"}}},
          {"state", {{"type", "string"}, {"enum", {"READY", "LOADING", "UNAVAILABLE"}}}},
          {"reason", {{"type", "string"}}}}}}},
      {"Prediction",
       {{"type", "object"},
        {"properties",
         {{"index", {{"type", "integer"}}}, {"label", {{"type", "string"}}}, {"score", {{"type", "number"}}}}}}},
      {"Record",
       {{"type", "object"},
        {"description", "One image's result, as ptjs run writes it without 'file'."},
        {"properties",
         {{"predictions", {{"type", "array"}, {"items", ref("Prediction")}}},
          {"outputs", {{"type", "array"}, {"items", ref("Tensor")}}}}}}},
  };
}

json operation(const api_route& r) {
  // Unique per operation, as OpenAPI asks: the versioned and PUT forms of an endpoint say so.
  std::string id = r.endpoint;
  if (r.path.find("{version}") != std::string::npos) id += "_versioned";
  if (r.method == "PUT") id += "_put";
  if (r.path.find("{asset}") != std::string::npos) id += "_asset";
  json op = {{"summary", r.summary}, {"operationId", id}};
  if (r.path.find("{model}") != std::string::npos)
    op["parameters"] = json::array(
        {{{"name", "model"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}},
          {"description", "a model name given to ptjs serve --model NAME=..."}}});
  if (r.path.find("{asset}") != std::string::npos)
    op["parameters"] = json::array({{{"name", "asset"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}},
                                     {"description", "a file of the page: app.js, app.css, icon.svg, digit-N.png"}}});
  if (r.path.find("{version}") != std::string::npos)
    op["parameters"].push_back({{"name", "version"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}},
                                {"description", "the model's version: \"1\", the one its metadata lists"}});
  json responses;
  const auto& e = r.endpoint;
  if (e == "health_live") {
    responses["200"] = {{"description", "the process is up"}};
  } else if (e == "health_ready" || e == "model_ready") {
    responses["200"] = {{"description", "ready: loaded and warmed up"}};
    responses["503"] = error_response("not ready (loading or shutting down)");
  } else if (e == "server_metadata") {
    responses["200"] = {{"description", "server metadata"}, {"content", json_content(ref("ServerMetadata"))}};
  } else if (e == "model_metadata") {
    responses["200"] = {{"description", "model metadata"}, {"content", json_content(ref("ModelMetadata"))}};
  } else if (e == "infer") {
    op["requestBody"] = {
        {"required", true},
        {"description",
         "JSON, or with the binary tensor data extension (header Inference-Header-Content-Length: length of "
         "the JSON part) application/octet-stream: JSON, then each input's raw data. Image models take their "
         "preprocessed tensor or a BYTES input of encoded images."},
        {"content",
         {{"application/json", {{"schema", ref("InferRequest")}}},
          {"application/octet-stream", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
    responses["200"] = {
        {"description", "model outputs (binary ones after the JSON header when asked for)"},
        {"headers",
         {{"Inference-Header-Content-Length",
           {{"schema", {{"type", "integer"}}}, {"description", "with binary outputs: length of the JSON part"}}},
          {"Server-Timing", server_timing_header()}}},
        {"content",
         {{"application/json", {{"schema", ref("InferResponse")}}},
          {"application/octet-stream", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
  } else if (e == "predictions") {
    op["requestBody"] = {
        {"required", true},
        {"description", "An encoded image (raw body), several as multipart/form-data, or JSON {\"b64\": ...} / [{\"b64\": ...}]"},
        {"content",
         {{"image/*", {{"schema", {{"type", "string"}, {"format", "binary"}}}}},
          {"application/octet-stream", {{"schema", {{"type", "string"}, {"format", "binary"}}}}},
          {"multipart/form-data",
           {{"schema",
             {{"type", "object"},
              {"additionalProperties", {{"type", "string"}, {"format", "binary"}}}}}}},
          {"application/json",
           {{"schema",
             {{"oneOf",
               {{{"type", "object"}, {"properties", {{"b64", {{"type", "string"}}}}}},
                {{"type", "array"}, {"items", {{"type", "object"}, {"properties", {{"b64", {{"type", "string"}}}}}}}}}}}}}}}}};
    responses["200"] = {
        {"description", "one record, or an array of records for several images"},
        {"headers", {{"Server-Timing", server_timing_header()}}},
        {"content",
         json_content({{"oneOf", {ref("Record"), {{"type", "array"}, {"items", ref("Record")}}}}})}};
  } else if (e == "ping") {
    responses["200"] = {{"description", "healthy"},
                        {"content", json_content({{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}})}};
    responses["503"] = {{"description", "unhealthy"}};
  } else if (e == "metrics") {
    responses["200"] = {{"description", "Prometheus text format 0.0.4"},
                        {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}};
  } else if (e == "model_config") {
    responses["200"] = {{"description", "the model's configuration"}, {"content", json_content(ref("ModelConfig"))}};
  } else if (e == "repository_index") {
    responses["200"] = {{"description", "every model given to ptjs serve, in the order given"},
                        {"content", json_content({{"type", "array"}, {"items", ref("RepositoryEntry")}})}};
  } else if (e == "ui") {
    responses["200"] = {{"description", "the page, or one of its files"},
                        {"content",
                         {{"text/html", {{"schema", {{"type", "string"}}}}},
                          {"text/javascript", {{"schema", {{"type", "string"}}}}},
                          {"text/css", {{"schema", {{"type", "string"}}}}},
                          {"image/*", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
    responses["404"] = error_response("no such file, or the page is off (--no-ui)");
  } else if (e == "openapi") {
    responses["200"] = {{"description", "this document"}, {"content", json_content({{"type", "object"}})}};
  }
  if (r.path.find("{model}") != std::string::npos) responses["404"] = error_response("no model of that name (or version)");
  if (r.method == "POST" || r.method == "PUT") {
    responses["400"] = error_response("bad input: JSON, datatype, shape, input name, or not an image");
    responses["413"] = error_response("body or image too large");
    responses["500"] = error_response("the model failed");
    responses["503"] = error_response("not ready, queue full or shutting down");
    responses["504"] = error_response("no answer within the request timeout");
  }
  if (!r.open) responses["401"] = error_response("missing or wrong API key (only with --api-key)");
  op["responses"] = responses;
  if (r.open) op["security"] = json::array();
  return op;
}

}  // namespace

std::string openapi_json(const std::vector<api_route>& routes, const std::string& version, bool api_key) {
  json doc = {{"openapi", "3.0.3"},
              {"info",
               {{"title", "ptjs serve"},
                {"version", version},
                {"description",
                 "TorchScript models over HTTP: KServe v2 (Open Inference Protocol) and TorchServe-compatible "
                 "endpoints. Errors are {\"error\": message}."}}}};
  json paths = json::object();
  for (const auto& r : routes) {
    std::string method = r.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[r.path][method] = operation(r);
  }
  doc["paths"] = paths;
  doc["components"] = {{"schemas", schemas()}};
  if (api_key) {
    doc["components"]["securitySchemes"] = {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}};
    doc["security"] = json::array({{{"bearer", json::array()}}});
  }
  return doc.dump(2);
}

}  // namespace ptjs
