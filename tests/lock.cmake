# examples/lock, labelled `lock`: the lock service's rules (unit), its fencing story and
# properties in the simulator over many seeds (with network faults and Byzantine
# replicas), and a real four-process cluster. tests/lock/*_test.cc are gtest binaries.
if(TARGET phalanx::examples_lock AND TARGET phalanx::adversary)
  phalanx_add_test_dir(lock ${PHALANX_TEST_LIBS} phalanx::examples_lock)
endif()

# Four phalanx-lock-replica processes on 127.0.0.1, ports 24300..24303 (metrics none).
if(TARGET phalanx-lock-replica AND TARGET phalanx-lock AND TARGET phalanx-keygen)
  add_test(NAME lock.cluster.acquire_held_expiry_larger_token
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/lock/cluster_test.sh 24300
                   $<TARGET_FILE:phalanx-keygen> $<TARGET_FILE:phalanx-lock-replica>
                   $<TARGET_FILE:phalanx-lock>)
  set_tests_properties(lock.cluster.acquire_held_expiry_larger_token PROPERTIES LABELS lock
                                                                                TIMEOUT 120)
endif()
