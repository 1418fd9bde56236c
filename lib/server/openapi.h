// The OpenAPI 3 description of the server, generated from the route table so that every
// served path is documented.
#pragma once

#include <string>
#include <vector>

namespace ptjs {

struct api_route {
  std::string method;    // GET | POST
  std::string path;      // "{model}" marks the model name segment
  std::string endpoint;  // what it does: health_live, infer, predictions, ... (also the metrics label)
  std::string summary;
  bool open = false;     // served without the API key
};

// OpenAPI 3.0 JSON for `routes`; `api_key` adds the bearer security scheme.
std::string openapi_json(const std::vector<api_route>& routes, const std::string& version, bool api_key);

}  // namespace ptjs
