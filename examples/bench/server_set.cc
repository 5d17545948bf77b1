#include "server_set.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

extern char** environ;

namespace phalanx::bench {

namespace {

class ThreadServers final : public ServerSet {
 public:
  explicit ThreadServers(std::vector<std::unique_ptr<Server>> servers)
      : servers_(std::move(servers)) {}
  Result<Counters> counters() override {
    Counters sum;
    for (const auto& server : servers_) sum += server->counters();
    return sum;
  }

 private:
  std::vector<std::unique_ptr<Server>> servers_;
};

// One server process and the pipes to it.
struct Child {
  pid_t pid = -1;
  FILE* to = nullptr;    // its stdin
  FILE* from = nullptr;  // its stdout
};

class ProcessServers final : public ServerSet {
 public:
  ~ProcessServers() override {
    for (Child& child : children_) {
      if (child.to) std::fclose(child.to);  // the server stops when its stdin closes
      if (child.from) std::fclose(child.from);
    }
    for (Child& child : children_) {
      int status = 0;
      if (child.pid > 0) waitpid(child.pid, &status, 0);
    }
  }

  Result<Child> spawn(const std::vector<std::string>& arguments) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return Error{"pipe failed"};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    posix_spawn_file_actions_addclose(&actions, to_child[1]);
    posix_spawn_file_actions_addclose(&actions, from_child[0]);
    std::vector<char*> argv;
    std::string self = "/proc/self/exe";
    argv.push_back(self.data());
    std::vector<std::string> copies = arguments;
    for (auto& argument : copies) argv.push_back(argument.data());
    argv.push_back(nullptr);
    Child child;
    int failed = posix_spawn(&child.pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    if (failed != 0) {
      close(to_child[1]);
      close(from_child[0]);
      return Error{"cannot start a server process"};
    }
    child.to = fdopen(to_child[1], "w");
    child.from = fdopen(from_child[0], "r");
    return child;
  }

  void add(Child child) { children_.push_back(child); }

  // One line from the child, or an Error when it ended (it printed why on stderr).
  static Result<std::string> read_line(Child& child) {
    char buffer[512];
    if (!std::fgets(buffer, sizeof buffer, child.from))
      return Error{"server process " + std::to_string(child.pid) + " ended"};
    std::string line(buffer);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
  }

  Result<Counters> counters() override {
    for (Child& child : children_) {
      std::fputs("counters\n", child.to);
      std::fflush(child.to);
    }
    Counters sum;
    for (Child& child : children_) {
      auto line = read_line(child);
      if (!line.ok()) return line.error();
      auto counters = Counters::from_line(line.value());
      if (!counters.ok()) return counters.error();
      sum += counters.value();
    }
    return sum;
  }

  std::vector<Child>& children() { return children_; }

 private:
  std::vector<Child> children_;
};

}  // namespace

Result<std::unique_ptr<ServerSet>> ServerSet::start(const BenchOptions& options,
                                                    const std::vector<std::string>& arguments,
                                                    const std::string& data_dir) {
  if (options.threads) {
    std::vector<std::unique_ptr<Server>> servers;
    for (std::uint32_t id = 0; id < options.server_count(); ++id) {
      auto server = start_server(options, id, data_dir);
      if (!server.ok()) return server.error();
      servers.push_back(std::move(server).value());
    }
    return std::unique_ptr<ServerSet>(std::make_unique<ThreadServers>(std::move(servers)));
  }
  auto set = std::make_unique<ProcessServers>();
  for (std::uint32_t id = 0; id < options.server_count(); ++id) {
    std::vector<std::string> child_arguments = {"--serve", std::to_string(id), "--data-dir",
                                                data_dir};
    child_arguments.insert(child_arguments.end(), arguments.begin(), arguments.end());
    auto child = set->spawn(child_arguments);
    if (!child.ok()) return child.error();
    set->add(child.value());
  }
  for (Child& child : set->children()) {
    auto ready = ProcessServers::read_line(child);
    if (!ready.ok()) return ready.error();
    if (ready.value() != "ready") return Error{"server process said: " + ready.value()};
  }
  return std::unique_ptr<ServerSet>(std::move(set));
}

int serve_main(const BenchOptions& options, std::uint32_t id, const std::string& data_dir) {
  auto server = start_server(options, id, data_dir);
  if (!server.ok()) {
    std::cerr << "phalanx-bench: server " << id << ": " << server.error().message << "\n";
    return 1;
  }
  std::cout << "ready" << std::endl;
  std::string command;
  while (std::getline(std::cin, command)) {
    if (command != "counters") continue;
    Counters counters = process_counters();
    counters += server.value()->counters();
    std::cout << counters.to_line() << std::endl;
  }
  return 0;
}

}  // namespace phalanx::bench
