# Unit tests of ptjs_server parts that need no model and no HTTP client.
add_executable(test_server test_connection_guard.cpp test_memory_budget.cpp)
target_link_libraries(test_server PRIVATE ptjs_server ptjs_options GTest::gtest_main)
gtest_discover_tests(test_server TEST_PREFIX "server." DISCOVERY_TIMEOUT 60)
