#include "phalanx/pbft/toml_file.h"

#include <algorithm>

namespace phalanx::pbft {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// A problem quotes what the file says (a key, a value), which may hold a newline or other
// control bytes: written as \xNN so that each problem stays one line.
std::string one_line(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
      continue;
    }
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}
}  // namespace

std::vector<std::string> FileProblems::lines() const {
  auto sorted = problems_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> lines;
  for (const auto& [line, text] : sorted)
    lines.push_back(one_line(source_) + (line == 0 ? "" : ":" + std::to_string(line)) + ": " +
                    one_line(text));
  return lines;
}

std::string FileProblems::joined() const {
  std::string text;
  for (const std::string& line : lines()) {
    if (!text.empty()) text += '\n';
    text += line;
  }
  return text;
}

Result<toml::table> parse_toml_file(std::string_view text, std::string_view source_name,
                                    std::size_t bytes_max) {
  if (text.size() > bytes_max)
    return Error{std::string(source_name) + ": file is " + std::to_string(text.size()) +
                 " bytes, more than the limit of " + std::to_string(bytes_max)};
  try {
    return toml::parse(text, source_name);
  } catch (const toml::parse_error& error) {
    const toml::source_position& at = error.source().begin;
    return Error{std::string(source_name) + ":" + std::to_string(at.line) + ":" +
                 std::to_string(at.column) +
                 ": TOML syntax error: " + std::string(error.description())};
  }
}

std::string_view closest_word(std::string_view word, std::span<const std::string_view> known,
                              bool prefix_is_near) {
  std::string_view best;
  std::size_t best_distance = 3;  // near misses only: typos, not other words
  for (std::string_view candidate : known) {
    std::size_t distance = prefix_is_near && word.size() >= 2 && candidate.starts_with(word)
                               ? 1
                               : edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace phalanx::pbft
