// Where libtorch's warnings go (TorchScript's `warnings.warn`, operators' TORCH_WARN). Includes
// libtorch headers: only model.cpp and the backends include it.
#pragma once

#include <c10/util/Exception.h>

namespace ptjs {

// Installs `handler` as the calling thread's libtorch warning handler while it lives: c10's
// handler is a per-thread pointer (in 1.13 as in 2.x), so this needs no lock and leaves other
// threads alone.
class warning_handler_scope {
 public:
  explicit warning_handler_scope(c10::WarningHandler* handler);
  ~warning_handler_scope();
  warning_handler_scope(const warning_handler_scope&) = delete;
  warning_handler_scope& operator=(const warning_handler_scope&) = delete;

 private:
  c10::WarningHandler* previous_;
};

// Swallows warnings: a rejected candidate's complaints are not the user's business.
c10::WarningHandler* silent_warnings();

// The model's own warnings reach stderr once per distinct message and place, as Python's
// default warnings filter shows them (libtorch's own handler logs every one through glog, a
// line per forward for a model that warns in it); past 64 different ones, one line says so.
c10::WarningHandler* warn_once();

}  // namespace ptjs
