// What several behaviours share (behaviours.h): parameters, the alternative batch,
// envelope surgery and pacing.
#include <algorithm>
#include <charconv>

#include "behaviours/behaviours.h"

namespace phalanx::adversary::behaviours {

namespace {
std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view part = text.substr(start, comma - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    parts.emplace_back(part);
    start = comma + 1;
  }
  return parts;
}

std::string joined(std::initializer_list<std::string_view> choices) {
  std::string text;
  for (auto choice : choices) text += (text.empty() ? "" : ", ") + std::string(choice);
  return text;
}

std::optional<std::uint64_t> whole_number(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}
}  // namespace

// --- parameters -----------------------------------------------------------------------------

Params::Params(const BehaviourContext& context)
    : params_(context.params), replicas_(context.replicas), self_(context.id) {}

std::optional<std::string> Params::take(std::string_view key) {
  known_.emplace(key);
  auto found = params_.find(std::string(key));
  if (found == params_.end()) return std::nullopt;
  return found->second;
}

void Params::fail(std::string message) {
  if (!error_) error_ = Error{std::move(message)};
}

std::uint64_t Params::number(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                             std::uint64_t max) {
  auto text = take(key);
  if (!text) return fallback;
  auto value = whole_number(*text);
  if (!value || *value < min || *value > max) {
    fail("parameter " + std::string(key) + "='" + *text + "' is not a whole number from " +
         std::to_string(min) + " to " + std::to_string(max));
    return fallback;
  }
  return *value;
}

double Params::probability(std::string_view key, double fallback) {
  auto text = take(key);
  if (!text) return fallback;
  double value = -1;
  const char* end = text->data() + text->size();
  auto [stop, error] = std::from_chars(text->data(), end, value);
  if (error != std::errc() || stop != end || !(value >= 0 && value <= 1)) {  // NaN fails too
    fail("parameter " + std::string(key) + "='" + *text + "' is not a probability from 0 to 1");
    return fallback;
  }
  return value;
}

bool Params::flag(std::string_view key, bool fallback) {
  auto text = take(key);
  if (!text) return fallback;
  if (*text == "true") return true;
  if (*text == "false") return false;
  fail("parameter " + std::string(key) + "='" + *text + "' is neither true nor false");
  return fallback;
}

std::string Params::choice(std::string_view key, std::optional<std::string_view> fallback,
                           std::initializer_list<std::string_view> choices) {
  auto text = take(key);
  if (!text) {
    if (!fallback)
      fail("missing parameter " + std::string(key) + " (one of: " + joined(choices) + ")");
    return std::string(fallback.value_or(*choices.begin()));
  }
  if (std::find(choices.begin(), choices.end(), *text) == choices.end()) {
    fail("parameter " + std::string(key) + "='" + *text + "' is not one of: " + joined(choices));
    return std::string(fallback.value_or(*choices.begin()));
  }
  return *text;
}

std::set<std::string> Params::subset(std::string_view key,
                                     std::initializer_list<std::string_view> choices) {
  std::set<std::string> all(choices.begin(), choices.end());
  auto text = take(key);
  if (!text) return all;
  std::set<std::string> chosen;
  for (const auto& part : split(*text)) {
    if (!all.count(part)) {
      fail("parameter " + std::string(key) + "='" + *text + "': '" + part +
           "' is not one of: " + joined(choices));
      return all;
    }
    chosen.insert(part);
  }
  return chosen;
}

std::set<pbft::ReplicaId> Params::replicas(std::string_view key,
                                           std::optional<std::set<pbft::ReplicaId>> fallback) {
  auto text = take(key);
  if (!text) {
    if (!fallback) fail("missing parameter " + std::string(key) + " (comma-separated replica ids)");
    return fallback.value_or(std::set<pbft::ReplicaId>{});
  }
  std::set<pbft::ReplicaId> chosen;
  for (const auto& part : split(*text)) {
    auto id = whole_number(part);
    if (!id || *id >= replicas_ || *id == self_) {
      fail("parameter " + std::string(key) + "='" + *text + "': '" + part +
           "' is not the id of another replica (0 to " + std::to_string(replicas_ - 1) + ", not " +
           std::to_string(self_) + ")");
      return fallback.value_or(std::set<pbft::ReplicaId>{});
    }
    chosen.insert(static_cast<pbft::ReplicaId>(*id));
  }
  return chosen;
}

std::optional<Error> Params::error() const {
  if (error_) return error_;
  for (const auto& [key, value] : params_) {
    if (known_.count(key)) continue;
    std::string known;
    for (const auto& name : known_) known += (known.empty() ? "" : ", ") + name;
    return Error{"unknown parameter '" + key + "' (known: " + (known.empty() ? "none" : known) +
                 ")"};
  }
  return std::nullopt;
}

// --- the alternative batch ----------------------------------------------------------------

std::optional<wire::PrePrepare> alternative(const wire::PrePrepare& batch) {
  if (batch.requests().empty()) return std::nullopt;
  wire::PrePrepare other;
  other.set_view(batch.view());
  other.set_seq(batch.seq());
  if (batch.requests_size() > 1)
    for (int i = batch.requests_size() - 1; i >= 0; --i) *other.add_requests() = batch.requests(i);
  other.set_digest(pbft::batch_digest(other).bytes());
  return other;
}

crypto::Digest derived_digest(ByteView digest) {
  return crypto::Hasher().update_field("phalanx adversary: another digest").update(digest).finish();
}

// --- envelopes ------------------------------------------------------------------------------

std::optional<wire::Envelope> parse_envelope(const std::string& bytes) {
  return parse<wire::Envelope>(bytes);
}

net::SharedBytes share(const wire::Envelope& envelope) {
  return std::make_shared<const Bytes>(pbft::encode(envelope));
}

net::SharedBytes with_sender(const net::SharedBytes& sealed, pbft::ReplicaId sender) {
  auto envelope = parse_envelope(*sealed);
  if (!envelope) return sealed;
  envelope->set_sender(sender);
  return share(*envelope);
}

wire::Envelope seal_request_as(const crypto::Signer& signer, std::string_view cluster_id,
                               const wire::Request& request) {
  Bytes payload = pbft::encode(request);
  crypto::Signature signature =
      signer.sign(pbft::signing_domain(cluster_id, wire::REQUEST), payload);
  wire::Envelope envelope;
  envelope.set_kind(wire::REQUEST);
  envelope.set_client_key(request.client_key());
  envelope.set_payload(std::move(payload));
  envelope.set_signature(signature.bytes());
  return envelope;
}

std::string other_cluster_id(std::string_view cluster_id) {
  std::string other = "other-" + std::string(cluster_id);
  if (other.size() > crypto::kClusterIdMax) other.resize(crypto::kClusterIdMax);
  if (other == cluster_id) other.back() = other.back() == 'x' ? 'y' : 'x';
  return other;
}

Bytes random_bytes(net::Rng& rng, std::size_t size) {
  Bytes bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(rng.uniform(0, 255));
  return bytes;
}

pbft::ReplicaId random_peer(net::Rng& rng, std::uint32_t replicas, pbft::ReplicaId self) {
  auto peer = static_cast<pbft::ReplicaId>(rng.uniform(0, replicas - 2));
  return peer >= self ? peer + 1 : peer;
}

bool signed_by(const wire::Envelope& envelope, pbft::ReplicaId id) {
  return envelope.kind() != wire::REQUEST && envelope.sender() == id;
}

// --- pacing ---------------------------------------------------------------------------------

Pacer::Pacer(std::uint64_t per_second)
    : interval_(
          std::max<pbft::Instant>(1, pbft::kSecond / std::max<std::uint64_t>(1, per_second))) {}

bool Pacer::due(pbft::Instant now) {
  if (now < next_) return false;
  next_ = now + interval_;
  return true;
}

}  // namespace phalanx::adversary::behaviours
