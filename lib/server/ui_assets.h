// The files of the page `ptjs serve` answers at GET / (lib/server/ui/), compiled into the binary
// by embed_files.cmake so that the page needs nothing beside the executable.
#pragma once

#include <string_view>

namespace ptjs {

struct ui_asset {
  std::string_view name;          // "index.html", "app.js", "digit-3.png", ...
  std::string_view content_type;
  std::string_view body;
};

// The asset of that name, or nullptr.
const ui_asset* find_ui_asset(std::string_view name);

}  // namespace ptjs
