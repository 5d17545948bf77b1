# Real-process integration tests, labelled `integration`: 4 replicas as separate processes
# on 127.0.0.1, clients, kill -9, SIGSTOP/SIGCONT, restarts, wrong keys, garbage, floods.
# Each is one case of tests/integration/cluster_test.sh, bounded in time, on its own ports.
if(NOT TARGET phalanx-replica OR NOT TARGET phalanx-client OR NOT TARGET phalanx-keygen
   OR NOT TARGET phalanx-byzantine-replica OR NOT TARGET phalanx-flood)
  return()
endif()

set(cases complete_2000_requests kill_primary kill_backup_and_restart pause_primary
          wrong_key_is_refused garbage_is_rejected peer_down_memory_bounded
          client_without_quorum_fails kill_all_and_recover rejoin_64mib_with_corrupt_chunks
          equivocating_primary_is_deposed hostile_clients_flood
          one_connection_is_rate_limited mac_clients)
set(index 0)
foreach(case ${cases})
  math(EXPR base_port "21000 + ${index} * 20")
  math(EXPR index "${index} + 1")
  add_test(NAME integration.cluster.${case}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/cluster_test.sh ${case} ${base_port}
                   $<TARGET_FILE:phalanx-keygen> $<TARGET_FILE:phalanx-replica>
                   $<TARGET_FILE:phalanx-client> $<TARGET_FILE:phalanx-flood>
                   $<TARGET_FILE:phalanx-byzantine-replica>)
  set_tests_properties(integration.cluster.${case} PROPERTIES LABELS integration TIMEOUT 180)
endforeach()
# The heaviest one (64 MiB of state through a real cluster) runs alone: on a 2-core
# machine shared with simulation tests its timings would measure the neighbours.
set_tests_properties(integration.cluster.rejoin_64mib_with_corrupt_chunks PROPERTIES RUN_SERIAL ON)
