# ptjs_transforms: unit tests and parity with torchvision (tests/parity/tv_reference.py).
set(PTJS_TX_REF_DIR ${PTJS_GEN_DIR}/transforms)

add_executable(ptjs_transforms_tests
  test_resize.cpp
  test_center_crop.cpp
  test_pad.cpp
  test_grayscale.cpp
  test_to_tensor.cpp
  test_pil_to_tensor.cpp
  test_convert_image_dtype.cpp
  test_normalize.cpp
  test_presets.cpp
  test_registry.cpp
  test_py_format.cpp
  test_npy.cpp
  # npy.cpp is compiled in rather than linking ptjs_io, so these tests do not depend on image_io.
  ${PTJS_SOURCE_DIR}/lib/npy.cpp
)
target_include_directories(ptjs_transforms_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${PTJS_SOURCE_DIR}/lib)
target_link_libraries(ptjs_transforms_tests PRIVATE ptjs_transforms ptjs_options GTest::gtest GTest::gtest_main)
target_compile_definitions(ptjs_transforms_tests PRIVATE PTJS_TX_REF_DIR="${PTJS_TX_REF_DIR}")

# Runs torchvision on the case list before any parity test (about 5 s on 2 cores).
add_test(NAME transforms.reference
  COMMAND ${PTJS_PYTHON} ${PTJS_SOURCE_DIR}/tests/parity/tv_reference.py
          --cases ${PTJS_SOURCE_DIR}/tests/parity/transform_cases.yaml --out ${PTJS_TX_REF_DIR})
set_tests_properties(transforms.reference PROPERTIES FIXTURES_SETUP transforms_reference TIMEOUT 120)

gtest_discover_tests(ptjs_transforms_tests
  TEST_PREFIX "transforms."
  DISCOVERY_TIMEOUT 30
  PROPERTIES FIXTURES_REQUIRED transforms_reference TIMEOUT 120)
