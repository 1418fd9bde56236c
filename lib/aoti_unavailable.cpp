// Builds with a libtorch older than 2.6 (Debian's 1.13) have no AOTInductor package loader.
#include <torch/version.h>

#include "error.h"
#include "model_backend.h"

namespace ptjs {

std::unique_ptr<model_backend> load_aoti(const std::string& path, const backend_settings&) {
  throw error(error_code::invalid_config,
              "'" + path + "' is an AOTInductor package (.pt2); this ptjs was built with libtorch " + TORCH_VERSION +
                  ", which cannot run .pt2 packages: use the default build of ptjs (libtorch 2.13), "
                  "or export the model as TorchScript (scripts/ptjs_export.py --format torchscript)");
}

}  // namespace ptjs
