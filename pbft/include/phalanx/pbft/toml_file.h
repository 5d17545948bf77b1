#pragma once
// Reading a small TOML file a person wrote, with errors a person can act on: shared by the
// cluster config (config.h) and the adversary's scenario files (adversary/scenario.h).
// Every problem names the file and the line; an unknown key suggests the near miss.
//
// Thread-safety: none needed (values and functions of their arguments).

#include <toml++/toml.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phalanx/base/result.h"

namespace phalanx::pbft {

// Collects "<source>:<line>: <text>" (or "<source>: <text>" for line 0, the whole file),
// and gives them back in the order of the file: those about the whole file first.
class FileProblems {
 public:
  explicit FileProblems(std::string_view source) : source_(source) {}
  void add(std::size_t line, std::string text) { problems_.emplace_back(line, std::move(text)); }
  bool empty() const { return problems_.empty(); }
  std::size_t size() const { return problems_.size(); }
  std::vector<std::string> lines() const;
  std::string joined() const;  // lines(), one per line

 private:
  std::string source_;
  std::vector<std::pair<std::size_t, std::string>> problems_;  // (line, text)
};

// Parses `text` (from `source_name`, at most `bytes_max` bytes). A syntax error names the
// file, line and column.
Result<toml::table> parse_toml_file(std::string_view text, std::string_view source_name,
                                    std::size_t bytes_max);

// The known word nearest `word`, for "did you mean ...?": within two edits (a typo, not
// another word), or, with `prefix_is_near`, one `word` begins (a unit left out: "until"
// for "until_ms"). Empty when none is near.
std::string_view closest_word(std::string_view word, std::span<const std::string_view> known,
                              bool prefix_is_near = false);

}  // namespace phalanx::pbft
