#pragma once
// KvHistory: what the clients of a replicated KV store (examples/kv) saw, operation by
// operation, as input for the linearizability checker (linearizability.h). Filled by a
// test that drives real replicas under faults, or fabricated by a test of the checker.
//
// Each operation records who issued it, what it asked, when it was invoked and, if a reply
// came, when and what. The results are examples/kv's: put -> ok, del -> ok (whether or not
// the key was there), get -> the value (found) or not found. An operation without a reply
// (the client timed out or was killed) may have taken effect at any instant after its
// invocation, or never.
//
// Text format, one operation per line, fields `name=value` separated by spaces, in any
// order; blank lines and lines starting with '#' are ignored:
//
//   client=3 op=put key=k1 value=v7 invoke=1200 complete=1850 result=ok
//   client=4 op=get key=k1 value=v7 invoke=1300 complete=1900 result=found
//   client=5 op=get key=k1 invoke=1310 complete=1420 result=not-found
//   client=3 op=del key=k1 invoke=2000 complete=2300 result=ok
//   client=6 op=put key=k2 value=v9 invoke=2100 complete=- result=-
//
//   client    the client's number (decimal)
//   op        put | get | del
//   key       the key; value: for put the value written, for a get that found the key
//             the value read; absent otherwise
//   invoke    when the client sent it; complete: when it accepted the reply, or `-` (or
//             absent) for no reply. Monotonic nanoseconds of one clock shared by all
//             clients; complete >= invoke.
//   result    ok (put, del) | found | not-found (get); `-` (or absent) with no reply
//
// Keys and values are non-empty tokens of printable ASCII without spaces (0x21..0x7e),
// at most kKvTokenBytesMax bytes; anything else is refused, by the writer as by the parser.
//
// Thread-safety: none; the functions are pure apart from load/save, which touch one file.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phalanx/base/result.h"

namespace phalanx::adversary {

// Longer keys or values are no test's; the bound keeps one bad line from being huge.
inline constexpr std::size_t kKvTokenBytesMax = 1024;
// A history file above this is refused rather than read into memory.
inline constexpr std::size_t kKvHistoryFileBytesMax = std::size_t{1} << 30;

enum class KvOperationKind { kPut, kGet, kDel };
std::string_view to_string(KvOperationKind kind);

struct KvOperation {
  std::uint64_t client = 0;
  KvOperationKind kind = KvOperationKind::kGet;
  std::string key;
  std::string value;   // kPut: the value written; kGet that found the key: the value read
  bool found = false;  // kGet with a reply: the key was there
  std::uint64_t invoke_ns = 0;
  std::optional<std::uint64_t> complete_ns;  // absent: no reply (timeout, client killed)

  bool completed() const { return complete_ns.has_value(); }
  bool operator==(const KvOperation&) const = default;
};

struct KvHistory {
  std::vector<KvOperation> operations;  // in any order
  bool operator==(const KvHistory&) const = default;
};

// Whether every operation is one the store could have produced and the format can hold
// (the rules above). The error names the first bad operation by its index.
Status validate_kv_history(const KvHistory& history);

// One line of the text format, without the newline; refuses an operation that breaks the
// rules above.
Result<std::string> format_kv_operation(const KvOperation& operation);
Result<std::string> format_kv_history(const KvHistory& history);

// Parses the text format. Errors read "SOURCE:LINE: what is wrong" for the first bad line.
Result<KvHistory> parse_kv_history(std::string_view text, std::string_view source = "history");

Result<KvHistory> load_kv_history(const std::string& path);
Status save_kv_history(const KvHistory& history, const std::string& path);

}  // namespace phalanx::adversary
