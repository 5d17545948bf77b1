# phalanx_warnings: an interface target every Phalanx target links, so that one place
# decides the warning level.
add_library(phalanx_warnings INTERFACE)
target_compile_options(phalanx_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough)
if(PHALANX_WERROR)
  target_compile_options(phalanx_warnings INTERFACE -Werror)
endif()
if(PHALANX_INVARIANTS)
  target_compile_definitions(phalanx_warnings INTERFACE PHALANX_INVARIANTS=1)
endif()
