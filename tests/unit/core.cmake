# Unit tests of ptjs_core (spec, postprocess, sinks, runner helpers). They link libtorch through
# ptjs_core but include no libtorch header.
add_executable(test_core test_model_spec.cpp test_postprocess.cpp test_sinks.cpp)
target_compile_definitions(test_core PRIVATE PTJS_TEST_DATA="${PTJS_TEST_DATA}")
target_link_libraries(test_core PRIVATE ptjs_core ptjs_options GTest::gtest_main)
gtest_discover_tests(test_core TEST_PREFIX "core." DISCOVERY_TIMEOUT 60)
