# image_io: decoding parity with PIL over a generated format matrix, and every bad input.
# The images and PIL's arrays are generated at test time by tests/parity/make_images.py.
set(PTJS_IMAGES_DIR ${PTJS_GEN_DIR}/images)

add_executable(test_image_io test_image_io.cpp)
target_link_libraries(test_image_io PRIVATE ptjs_io ptjs_options GTest::gtest_main opencv_core)
target_compile_definitions(test_image_io PRIVATE
  PTJS_IMAGES_DIR="${PTJS_IMAGES_DIR}")

add_test(NAME image_io_make_images
  COMMAND ${PTJS_PYTHON} ${PTJS_SOURCE_DIR}/tests/parity/make_images.py
          --out ${PTJS_IMAGES_DIR} --set formats --set bad)
set_tests_properties(image_io_make_images PROPERTIES FIXTURES_SETUP image_io_images TIMEOUT 60)

gtest_discover_tests(test_image_io
  PROPERTIES FIXTURES_REQUIRED image_io_images
  DISCOVERY_TIMEOUT 30)
