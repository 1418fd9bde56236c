# Used by scripts/gpu/check.sh only when pip torch's own CMake files fail on the GPU machine
# (they enable CUDA and want a toolkit that matches torch's): the `torch` target by hand, from
# the torch package of PTJS_PYTHON. CPU and CUDA libraries; libtorch_cuda is linked even
# though no symbol of it is referenced, since it registers the CUDA kernels when loaded.
execute_process(
  COMMAND "${PTJS_PYTHON}" -c "import os, torch; print(os.path.dirname(torch.__file__)); print(torch.__version__.split('+')[0]); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))"
  OUTPUT_VARIABLE _ptjs_torch OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _ptjs_rc)
if(NOT _ptjs_rc EQUAL 0)
  message(FATAL_ERROR "torch-fallback: '${PTJS_PYTHON}' cannot import torch")
endif()
string(REPLACE "\n" ";" _ptjs_torch "${_ptjs_torch}")
list(GET _ptjs_torch 0 _ptjs_dir)
list(GET _ptjs_torch 1 Torch_VERSION)
list(GET _ptjs_torch 2 _ptjs_abi)
set(TORCH_INCLUDE_DIRS "${_ptjs_dir}/include" "${_ptjs_dir}/include/torch/csrc/api/include")
set(_ptjs_libs "${_ptjs_dir}/lib/libtorch.so" "${_ptjs_dir}/lib/libtorch_cpu.so" "${_ptjs_dir}/lib/libc10.so")
if(EXISTS "${_ptjs_dir}/lib/libtorch_cuda.so")
  list(APPEND _ptjs_libs "-Wl,--no-as-needed" "${_ptjs_dir}/lib/libtorch_cuda.so" "${_ptjs_dir}/lib/libc10_cuda.so" "-Wl,--as-needed")
endif()
if(NOT TARGET torch)
  add_library(torch INTERFACE IMPORTED)
  set_target_properties(torch PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${TORCH_INCLUDE_DIRS}"
    INTERFACE_COMPILE_DEFINITIONS "_GLIBCXX_USE_CXX11_ABI=${_ptjs_abi}"
    INTERFACE_LINK_LIBRARIES "${_ptjs_libs}")
endif()
set(TORCH_LIBRARIES torch)
set(Torch_FOUND TRUE)
message(STATUS "torch-fallback: torch ${Torch_VERSION} from ${_ptjs_dir}")
