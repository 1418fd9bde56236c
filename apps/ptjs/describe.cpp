#include "describe.h"

namespace ptjs {

void print_spec_summary(std::ostream& out, const model_spec& spec, const pipeline& preprocess) {
  out << "name: " << spec.name << "\n";
  if (!spec.model_path.empty()) out << "model: " << spec.model_path << "\n";
  out << "device: " << spec.device << "\n";
  if (spec.input_type == "image") {
    out << "input: image, mode " << color_mode_name(spec.mode)
        << (spec.exif_transpose ? ", EXIF orientation applied" : "") << "\n";
    if (spec.draft) {
      const cv::Size request = preprocess.draft_request();
      out << "draft: " << (request.empty() ? std::string("on, but the pipeline's first resize requests none: full decode")
                                            : "JPEGs decode reduced as PIL's draft('RGB', (" + std::to_string(request.width) +
                                                  ", " + std::to_string(request.height) + "))")
          << "\n";
    }
    out << "preprocess:\n";
    int n = 0;
    for (const auto& step : preprocess.describe()) out << "  " << ++n << ". " << step << "\n";
  } else {
    for (const auto& in : spec.inputs) {
      out << "input: tensor " << (in.name.empty() ? "(named after forward's argument)" : in.name) << " " << in.datatype << " [";
      for (size_t i = 0; i < in.shape.size(); ++i) out << (i ? ", " : "") << in.shape[i];
      out << "]\n";
    }
  }
  out << "postprocess:";
  for (const auto& step : spec.postprocess) {
    out << " " << step.name;
    if (step.name == "Softmax") out << "(dim=" << step.dim << ")";
    if (step.name == "TopK") out << "(k=" << step.k << ")";
  }
  out << "\nlabels: " << spec.labels.size();
  if (!spec.labels.empty()) out << " (" << spec.labels.front() << " ... " << spec.labels.back() << ")";
  out << "\nbatching: max_batch_size=" << spec.max_batch_size << ", max_delay_ms=" << spec.max_delay_ms << "\n";
}

}  // namespace ptjs
