#include "phalanx/adversary/history.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

namespace phalanx::adversary {

std::string_view to_string(KvOperationKind kind) {
  switch (kind) {
    case KvOperationKind::kPut:
      return "put";
    case KvOperationKind::kGet:
      return "get";
    case KvOperationKind::kDel:
      return "del";
  }
  return "unknown";
}

namespace {

constexpr std::string_view kNone = "-";

// "" when the token is fit for the format, else what is wrong with it.
std::string token_problem(std::string_view what, std::string_view token) {
  if (token.empty()) return std::string(what) + " is empty";
  if (token.size() > kKvTokenBytesMax)
    return std::string(what) + " has " + std::to_string(token.size()) + " bytes, more than " +
           std::to_string(kKvTokenBytesMax);
  for (std::size_t i = 0; i < token.size(); ++i) {
    auto byte = static_cast<unsigned char>(token[i]);
    if (byte >= 0x21 && byte <= 0x7e) continue;
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", byte);
    return std::string(what) + " has byte " + hex + " at offset " + std::to_string(i) +
           " (keys and values are printable ASCII without spaces)";
  }
  return "";
}

// "" when the operation is one the store could have answered and the format can hold.
std::string operation_problem(const KvOperation& operation) {
  if (auto problem = token_problem("key", operation.key); !problem.empty()) return problem;
  if (operation.complete_ns && *operation.complete_ns < operation.invoke_ns)
    return "complete " + std::to_string(*operation.complete_ns) + " is before invoke " +
           std::to_string(operation.invoke_ns);
  bool reads_value = operation.kind == KvOperationKind::kGet && operation.found;
  if (operation.found && (operation.kind != KvOperationKind::kGet || !operation.completed()))
    return "only a get with a reply can have found the key";
  if (operation.kind == KvOperationKind::kPut || reads_value)
    return token_problem("value", operation.value);
  if (!operation.value.empty())
    return std::string(to_string(operation.kind)) +
           (operation.kind == KvOperationKind::kGet ? " without a value found" : "") +
           " has a value";
  return "";
}

std::string result_text(const KvOperation& operation) {
  if (!operation.completed()) return std::string(kNone);
  if (operation.kind != KvOperationKind::kGet) return "ok";
  return operation.found ? "found" : "not-found";
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return number;
}

std::optional<KvOperationKind> parse_kind(std::string_view text) {
  for (auto kind : {KvOperationKind::kPut, KvOperationKind::kGet, KvOperationKind::kDel})
    if (text == to_string(kind)) return kind;
  return std::nullopt;
}

constexpr std::string_view kFieldNames[] = {"client", "op",       "key",   "value",
                                            "invoke", "complete", "result"};

Result<std::map<std::string_view, std::string_view>> split_fields(std::string_view line) {
  std::map<std::string_view, std::string_view> fields;
  std::size_t start = 0;
  while (start < line.size()) {
    std::size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    std::string_view field = line.substr(start, end - start);
    start = end + 1;
    if (field.empty()) continue;  // several spaces in a row
    std::size_t equals = field.find('=');
    if (equals == std::string_view::npos)
      return Error{"'" + std::string(field) + "' is not name=value"};
    std::string_view name = field.substr(0, equals);
    if (std::find(std::begin(kFieldNames), std::end(kFieldNames), name) == std::end(kFieldNames))
      return Error{"unknown field '" + std::string(name) + "'"};
    if (!fields.emplace(name, field.substr(equals + 1)).second)
      return Error{"field '" + std::string(name) + "' given twice"};
  }
  return fields;
}

// Fills the fields the result decides: whether it completed, and what a get found.
Status read_result(std::string_view result, KvOperation& operation) {
  if (result == kNone) {
    if (operation.complete_ns) return Error{"complete is given but result is '-'"};
    return ok_status();
  }
  if (!operation.complete_ns) return Error{"result is given but complete is '-' or absent"};
  bool is_get = operation.kind == KvOperationKind::kGet;
  if (is_get && (result == "found" || result == "not-found")) {
    operation.found = result == "found";
    return ok_status();
  }
  if (!is_get && result == "ok") return ok_status();
  return Error{"result '" + std::string(result) + "' is not one of " +
               (is_get ? "found, not-found, -" : "ok, -") + " (for " +
               std::string(to_string(operation.kind)) + ")"};
}

Result<KvOperation> parse_operation(std::string_view line) {
  auto split = split_fields(line);
  if (!split.ok()) return split.error();
  const auto& fields = split.value();
  for (std::string_view required : {"client", "op", "key", "invoke"})
    if (!fields.contains(required)) return Error{"field '" + std::string(required) + "' missing"};
  KvOperation operation;
  auto client = parse_number(fields.at("client"));
  if (!client) return Error{"client '" + std::string(fields.at("client")) + "' is not a number"};
  operation.client = *client;
  auto kind = parse_kind(fields.at("op"));
  if (!kind) return Error{"op '" + std::string(fields.at("op")) + "' is not put, get or del"};
  operation.kind = *kind;
  operation.key = fields.at("key");
  auto invoke = parse_number(fields.at("invoke"));
  if (!invoke) return Error{"invoke '" + std::string(fields.at("invoke")) + "' is not a number"};
  operation.invoke_ns = *invoke;
  auto complete = fields.find("complete");
  if (complete != fields.end() && complete->second != kNone) {
    operation.complete_ns = parse_number(complete->second);
    if (!operation.complete_ns)
      return Error{"complete '" + std::string(complete->second) + "' is not a number or '-'"};
  }
  auto result = fields.find("result");
  auto status = read_result(result == fields.end() ? kNone : result->second, operation);
  if (!status.ok()) return status.error();
  if (auto value = fields.find("value"); value != fields.end()) {
    if (operation.kind != KvOperationKind::kPut && !operation.found)
      return Error{"value given for a " + std::string(to_string(operation.kind)) +
                   (operation.kind == KvOperationKind::kGet ? " that found nothing" : "")};
    operation.value = value->second;
  }
  if (operation.kind == KvOperationKind::kPut && operation.value.empty())
    return Error{"put without a value"};
  if (operation.found && operation.value.empty()) return Error{"get found without a value"};
  if (auto problem = operation_problem(operation); !problem.empty()) return Error{problem};
  return operation;
}

}  // namespace

Status validate_kv_history(const KvHistory& history) {
  for (std::size_t i = 0; i < history.operations.size(); ++i)
    if (auto problem = operation_problem(history.operations[i]); !problem.empty())
      return Error{"operation " + std::to_string(i) + ": " + problem};
  return ok_status();
}

Result<std::string> format_kv_operation(const KvOperation& operation) {
  if (auto problem = operation_problem(operation); !problem.empty()) return Error{problem};
  std::string line = "client=" + std::to_string(operation.client) +
                     " op=" + std::string(to_string(operation.kind)) + " key=" + operation.key;
  if (!operation.value.empty()) line += " value=" + operation.value;
  line += " invoke=" + std::to_string(operation.invoke_ns) + " complete=" +
          (operation.complete_ns ? std::to_string(*operation.complete_ns) : std::string(kNone)) +
          " result=" + result_text(operation);
  return line;
}

Result<std::string> format_kv_history(const KvHistory& history) {
  std::string text;
  for (std::size_t i = 0; i < history.operations.size(); ++i) {
    auto line = format_kv_operation(history.operations[i]);
    if (!line.ok()) return Error{"operation " + std::to_string(i) + ": " + line.error().message};
    text += line.value() + "\n";
  }
  return text;
}

Result<KvHistory> parse_kv_history(std::string_view text, std::string_view source) {
  KvHistory history;
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    ++line_number;
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    std::size_t first = line.find_first_not_of(' ');
    if (first == std::string_view::npos || line[first] == '#') continue;
    auto operation = parse_operation(line);
    if (!operation.ok())
      return Error{std::string(source) + ":" + std::to_string(line_number) + ": " +
                   operation.error().message};
    history.operations.push_back(std::move(operation).value());
  }
  return history;
}

Result<KvHistory> load_kv_history(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    return Error{path + ": is a directory, not a history file"};
  auto size = std::filesystem::file_size(path, error);
  if (error) return Error{path + ": cannot read history file: " + error.message()};
  if (size > kKvHistoryFileBytesMax)
    return Error{path + ": history file of " + std::to_string(size) + " bytes, more than " +
                 std::to_string(kKvHistoryFileBytesMax)};
  std::ifstream file(path, std::ios::binary);
  if (!file) return Error{path + ": cannot open history file: " + std::strerror(errno)};
  std::string text(static_cast<std::size_t>(size), '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad()) return Error{path + ": cannot read history file: " + std::strerror(errno)};
  text.resize(static_cast<std::size_t>(file.gcount()));
  return parse_kv_history(text, path);
}

Status save_kv_history(const KvHistory& history, const std::string& path) {
  auto text = format_kv_history(history);
  if (!text.ok()) return Error{path + ": " + text.error().message};
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return Error{path + ": cannot create history file: " + std::strerror(errno)};
  file.write(text.value().data(), static_cast<std::streamsize>(text.value().size()));
  file.flush();
  if (!file) return Error{path + ": cannot write history file: " + std::strerror(errno)};
  return ok_status();
}

}  // namespace phalanx::adversary
