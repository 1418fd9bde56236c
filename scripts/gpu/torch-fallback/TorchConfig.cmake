# scripts/gpu/check.sh builds against this rather than pip torch's own CMake files: those link
# the program with a static libstdc++ on the GPU machine (seen with torch 2.11: the program's
# own std::locale then freed a libtorch stream's locale, "free(): invalid pointer" at the first
# TorchScript load), and they enable CUDA compilation, which ptjs does not need. This is the
# `torch` target by hand, from the torch package of PTJS_PYTHON: its shared libraries and
# headers, CUDA libraries included when present (libtorch_cuda is linked although no symbol of
# it is referenced: loading it registers the CUDA kernels). Debian's layout works too.
execute_process(
  COMMAND "${PTJS_PYTHON}" -c "import os, torch; print(os.path.dirname(torch.__file__)); print(torch.__version__.split('+')[0].split('a')[0]); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))"
  OUTPUT_VARIABLE _ptjs_torch OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _ptjs_rc)
if(NOT _ptjs_rc EQUAL 0)
  message(FATAL_ERROR "torch-fallback: '${PTJS_PYTHON}' cannot import torch")
endif()
string(REPLACE "\n" ";" _ptjs_torch "${_ptjs_torch}")
list(GET _ptjs_torch 0 _ptjs_dir)
list(GET _ptjs_torch 1 Torch_VERSION)
list(GET _ptjs_torch 2 _ptjs_abi)
if(EXISTS "${_ptjs_dir}/include/torch/script.h")
  set(TORCH_INCLUDE_DIRS "${_ptjs_dir}/include" "${_ptjs_dir}/include/torch/csrc/api/include")
else()  # Debian: headers in /usr/include
  set(TORCH_INCLUDE_DIRS "/usr/include" "/usr/include/torch/csrc/api/include")
endif()
set(_ptjs_libs "")
foreach(_lib torch torch_cpu c10)
  find_library(_ptjs_lib_${_lib} ${_lib} HINTS "${_ptjs_dir}/lib" REQUIRED)
  list(APPEND _ptjs_libs "${_ptjs_lib_${_lib}}")
endforeach()
find_library(_ptjs_lib_torch_cuda torch_cuda HINTS "${_ptjs_dir}/lib" NO_DEFAULT_PATH)
find_library(_ptjs_lib_c10_cuda c10_cuda HINTS "${_ptjs_dir}/lib" NO_DEFAULT_PATH)
if(_ptjs_lib_torch_cuda AND _ptjs_lib_c10_cuda)
  list(APPEND _ptjs_libs "-Wl,--no-as-needed" "${_ptjs_lib_torch_cuda}" "${_ptjs_lib_c10_cuda}" "-Wl,--as-needed")
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
message(STATUS "torch-fallback: torch ${Torch_VERSION} from ${_ptjs_dir}: ${_ptjs_libs}")
