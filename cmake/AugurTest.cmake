# augur_test(NAME SOURCES a.cc b.cc LIBS lib1 lib2 [LABELS l1])
# One Catch2 v2 binary per module test file; each TEST_CASE becomes its own ctest entry so a
# failure names the behaviour that broke. Tests run from the source root; they find the built
# binaries and ../shared/data through paths compiled into augur_test_main (tests/CMakeLists.txt).
include(Catch)
function(augur_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} augur_test_main)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  set(props TIMEOUT 600)
  if(T_LABELS)
    list(APPEND props LABELS "${T_LABELS}")
  endif()
  catch_discover_tests(${name} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} PROPERTIES ${props})
endfunction()
