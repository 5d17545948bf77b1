# Tests of the command-line tools, labelled `tools`: phalanx-keygen writes a cluster
# the loader accepts (and refuses what it must), and phalanx-demo passes on it. Each test
# is one case of tests/tools/keygen_test.sh, run in its own scratch directory.
if(NOT TARGET phalanx-keygen OR NOT TARGET phalanx-demo)
  return()
endif()

add_executable(tools_check_cluster tools/check_cluster.cc)
target_link_libraries(tools_check_cluster PRIVATE phalanx::config phalanx_warnings phalanx_tool_flags)

foreach(case creates_loadable_cluster refuses_bad_arguments refuses_existing_files
             demo_passes_on_generated_cluster)
  add_test(NAME tools.keygen.${case}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tools/keygen_test.sh ${case}
                   $<TARGET_FILE:phalanx-keygen> $<TARGET_FILE:phalanx-demo>
                   $<TARGET_FILE:tools_check_cluster>)
  set_tests_properties(tools.keygen.${case} PROPERTIES LABELS tools TIMEOUT 60)
endforeach()

# The dependency-rule check can fail: each rule, broken on purpose in a scratch copy.
add_test(NAME tools.check_layering.refuses_planted_violations
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tools/layering_test.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(tools.check_layering.refuses_planted_violations PROPERTIES LABELS tools
                                                                                TIMEOUT 60)
