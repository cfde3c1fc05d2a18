# augur_test(NAME SOURCES a.cc b.cc LIBS lib1 lib2 [LABELS l1])
# One Catch2 v2 binary per module test file; each TEST_CASE becomes its own ctest entry so a
# failure names the behaviour that broke. Test binaries run from the source root so they can
# find ../shared/data through AUGUR_SHARED_DATA.
include(Catch)
function(augur_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} augur_test_main)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  catch_discover_tests(${name}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT 600
               ENVIRONMENT "AUGUR_BIN_DIR=${CMAKE_BINARY_DIR}/bin;AUGUR_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()
