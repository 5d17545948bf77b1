// discard_state (log_storage.h): set a data directory's contents aside, for a replica
// that will rejoin by state transfer. Nothing is deleted: an operator may want to know
// what went wrong, and moving is as atomic per entry as a rename.
#include <algorithm>

#include "data_dir.h"
#include "phalanx/storage/log_storage.h"

namespace phalanx::storage {

Result<std::string> discard_state(FileSystem& file_system, const std::string& dir) {
  if (!file_system.exists(dir)) return std::string();
  auto names = file_system.list(dir);
  if (!names) return names.error();
  std::uint64_t highest = 0;
  std::vector<std::string> moving;
  for (const std::string& name : names.value()) {
    if (auto number = parse_discarded_name(name))
      highest = std::max(highest, *number);
    else
      moving.push_back(name);
  }
  if (moving.empty()) return std::string();
  std::string target = join_path(dir, std::string(kDiscardedPrefix) + std::to_string(highest + 1));
  if (auto created = file_system.create_dirs(target); !created) return created.error();
  for (const std::string& name : moving) {
    if (auto moved = file_system.rename(join_path(dir, name), join_path(target, name)); !moved)
      return moved.error();
  }
  if (auto synced = file_system.sync_dir(target); !synced) return synced.error();
  if (auto synced = file_system.sync_dir(dir); !synced) return synced.error();
  return target;
}

}  // namespace phalanx::storage
