# The examples and the embedding guide, labelled `examples`: each example program runs and
# prints what its README says, and every ```cpp block of docs/embedding.md compiles.

# examples/counter: four replicas and a client in one process, on ports 24100..24103.
if(TARGET phalanx-counter)
  add_test(NAME examples.counter.replicas_agree_on_the_total
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/examples/counter_test.sh
                   $<TARGET_FILE:phalanx-counter> 24100
                   ${CMAKE_CURRENT_SOURCE_DIR}/examples/counter.expected)
  set_tests_properties(examples.counter.replicas_agree_on_the_total PROPERTIES LABELS examples
                                                                               TIMEOUT 90)
endif()

# docs/embedding.md is compiled by the build. Its blocks are extracted here, at configure
# time (an edit of the doc re-runs configure), into embedding_doc/ of the build directory.
# A fence is ```cpp at the start of a line (after spaces, inside a list item):
#  - a block fenced ```cpp is a whole translation unit: block-<N>.cc, compiled with the
#    project's warnings against phalanx::node (and phalanx::adversary), with the include
#    directory examples/counter, and linked into a program when it defines main(). Its
#    first line is `#line` to the doc, so compiler errors name docs/embedding.md:LINE;
#  - blocks fenced ```cpp PATH are the file PATH of this repository shown in pieces:
#    joined by one empty line, they must equal it byte for byte (diffed by the build), so
#    the guide cannot drift from the example it walks through; PATH compiles in its own
#    target.
# The test builds the target once more: it fails when a block does not compile or a piece
# differs, also when the doc was edited after the last build.

# Writes `content` to `path` only when it changed, so that a configure run does not make
# the build recompile every block.
function(phalanx_write_if_changed path content)
  file(WRITE ${path}.tmp "${content}")
  file(COPY_FILE ${path}.tmp ${path} ONLY_IF_DIFFERENT)
  file(REMOVE ${path}.tmp)
endfunction()

# Makes the target embedding_doc from `doc`'s blocks, as described above.
function(phalanx_add_doc_blocks doc)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${doc})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedding_doc)
  file(MAKE_DIRECTORY ${out})
  file(READ ${doc} rest)
  set(line 1)  # of the doc, at the start of `rest`
  set(block_count 0)
  set(block_targets "")
  set(shown_files "")
  while(TRUE)
    string(FIND "${rest}" "```cpp" fence)
    if(fence EQUAL -1)
      break()
    endif()
    string(SUBSTRING "${rest}" 0 ${fence} before)
    string(REGEX MATCHALL "\n" newlines "${before}")
    list(LENGTH newlines skipped)
    string(SUBSTRING "${rest}" ${fence} -1 rest)
    if(NOT before MATCHES "(^|\n)[ ]*$")  # not a fence: ```cpp within a line of text
      math(EXPR line "${line} + ${skipped}")
      string(SUBSTRING "${rest}" 6 -1 rest)
      continue()
    endif()
    string(FIND "${rest}" "\n" fence_end)
    math(EXPR info_length "${fence_end} - 6")
    string(SUBSTRING "${rest}" 6 ${info_length} path)
    string(STRIP "${path}" path)
    math(EXPR body_start "${fence_end} + 1")
    string(SUBSTRING "${rest}" ${body_start} -1 rest)
    math(EXPR line "${line} + ${skipped} + 1")  # the block's first line
    string(FIND "${rest}" "```" closing)
    if(closing EQUAL -1)
      message(SEND_ERROR "${doc}:${line}: a ```cpp block that is never closed")
      break()
    endif()
    string(SUBSTRING "${rest}" 0 ${closing} body)
    string(REGEX REPLACE "[ ]+$" "" body "${body}")  # the closing fence's indentation
    if(path STREQUAL "")
      math(EXPR block_count "${block_count} + 1")
      set(source ${out}/block-${block_count}.cc)
      phalanx_write_if_changed(${source} "#line ${line} \"${doc}\"\n${body}")
      set(target embedding_doc_block_${block_count})
      if(body MATCHES "^// sim-counter ")  # the guide's simulator program: run below
        set(sim_counter_target ${target} PARENT_SCOPE)
      endif()
      if(body MATCHES "int main\\(")
        add_executable(${target} ${source})
        set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${out})
      else()
        add_library(${target} OBJECT ${source})
      endif()
      target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/examples/counter)
      target_link_libraries(${target} PRIVATE phalanx::node phalanx_warnings)
      if(TARGET phalanx::adversary)
        target_link_libraries(${target} PRIVATE phalanx::adversary)
      endif()
      list(APPEND block_targets ${target})
    else()
      string(MAKE_C_IDENTIFIER "${path}" key)
      if(NOT path IN_LIST shown_files)
        list(APPEND shown_files "${path}")
        set(pieces_${key} "${body}")
      else()
        set(pieces_${key} "${pieces_${key}}\n${body}")
      endif()
    endif()
    string(REGEX MATCHALL "\n" newlines "${body}")
    list(LENGTH newlines body_lines)
    math(EXPR line "${line} + ${body_lines}")
    math(EXPR after_closing "${closing} + 3")
    string(SUBSTRING "${rest}" ${after_closing} -1 rest)
  endwhile()

  set(stamps "")
  foreach(path ${shown_files})
    string(MAKE_C_IDENTIFIER "${path}" key)
    set(joined ${out}/${key}.shown)
    phalanx_write_if_changed(${joined} "${pieces_${key}}")
    add_custom_command(
      OUTPUT ${joined}.matches
      COMMAND diff -u --label ${path} --label "docs/embedding.md, its blocks of ${path}"
              ${CMAKE_SOURCE_DIR}/${path} ${joined}
      COMMAND ${CMAKE_COMMAND} -E touch ${joined}.matches
      DEPENDS ${CMAKE_SOURCE_DIR}/${path} ${joined}
      COMMENT "docs/embedding.md shows ${path} as it is"
      VERBATIM)
    list(APPEND stamps ${joined}.matches)
  endforeach()

  add_custom_target(embedding_doc ALL DEPENDS ${stamps})
  if(block_targets)
    add_dependencies(embedding_doc ${block_targets})
  endif()
endfunction()

if(EXISTS ${CMAKE_SOURCE_DIR}/docs/embedding.md)
  phalanx_add_doc_blocks(${CMAKE_SOURCE_DIR}/docs/embedding.md)
  add_test(NAME examples.embedding_doc.blocks_compile_and_match_the_example
           COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target embedding_doc)
  set_tests_properties(examples.embedding_doc.blocks_compile_and_match_the_example
                       PROPERTIES LABELS examples TIMEOUT 600)
endif()

# The counter against Byzantine replicas: the guide's own simulator program (section 6)
# runs the counter through two scenario files, 20 seeds each.
if(sim_counter_target)
  add_test(NAME examples.counter.against_byzantine_replicas_in_the_simulator
           COMMAND ${sim_counter_target}
                   ${CMAKE_SOURCE_DIR}/adversary/scenarios/equivocating-primary.toml
                   ${CMAKE_SOURCE_DIR}/adversary/scenarios/crash-restart-all-log.toml)
  set_tests_properties(examples.counter.against_byzantine_replicas_in_the_simulator
                       PROPERTIES LABELS examples TIMEOUT 300)
endif()
