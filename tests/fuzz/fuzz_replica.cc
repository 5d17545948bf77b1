// libFuzzer target: one replica of the 4-replica fuzz cluster, driven through its whole
// protocol by a program the fuzzer writes. The input's first two bytes choose the replica
// under test, which of its three peers is Byzantine, and whether batch times are on; every
// later byte belongs to a step: a validly signed message of any kind from a peer or a
// client (fields drawn mostly from what the harness knows, so that they match the
// replica's state: fuzz_replica_messages.h), honest traffic that moves the cluster on (a
// committed slot, a view change), time passing, a garbled envelope, a replay, a restart
// from the replica's durable records (between steps, or in one before or after its records
// are durable), or the loss of them.
//
// After every step: the core's invariants (Replica::check_invariants, the check the
// PHALANX_INVARIANTS builds run), then what the step's actions must satisfy (ActionChecks).
// A broken one prints why and traps, like a crash.
//
// Entropic scheduling (libFuzzer's default) is off unless the command line sets -entropic:
// it updates a frequency per coverage feature per run, and a run here, a whole stretch of
// protocol, touches tens of thousands of features; that bookkeeping cost more than the
// runs themselves (measured: 39 against 110 runs/s).
//
// Deterministic: no clock, no randomness; time is the harness's counter. Two environment
// variables, read once:
//   PHALANX_FUZZ_REPLICA_TRACE=1    prints each step and what the replica did (to replay a
//                                   finding: fuzz_replica INPUT)
//   PHALANX_FUZZ_REPLICA_SEEDS=DIR  writes the seed programs to DIR and exits
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_replica_messages.h"
#include "phalanx/base/byte_io.h"
#include "phalanx/pbft/replica.h"

namespace phalanx::fuzz {
namespace {

using pbft::Instant;
using pbft::kMillisecond;
using pbft::kSecond;

// Steps and deliveries per input, so that one execution stays short whatever the input's
// length (a delivery costs a few signature checks and signatures: ~0.1 ms).
constexpr std::size_t kStepsMax = 48;
constexpr std::size_t kDeliveriesMax = 96;
constexpr Instant kStartTime = 1 * kSecond;
constexpr pbft::UnixMillis kWallClockStart = 1'700'000'000'000;

bool tracing = false;

void trace(const std::string& line) {
  if (tracing) std::fprintf(stderr, "  %s\n", line.c_str());
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_replica: %s\n", what.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

// Small numbers, so that checkpoints, watermarks, garbage collection and multi-chunk state
// transfers happen within a few dozen steps.
pbft::ReplicaOptions fuzz_options(bool batch_times) {
  pbft::ReplicaOptions options;
  options.checkpoint_interval = 4;
  options.window_checkpoints = 2;
  options.batch_requests_max = 4;
  options.state_chunk_bytes = 32;
  options.state_chunks_in_flight = 4;
  options.pending_requests_max = 16;
  options.client_table_max = 8;
  if (batch_times) options.batch_time_skew_max = 1 * kSecond;
  return options;
}

// A deterministic application: its state folds every operation it executed into a digest,
// so equal histories give equal snapshots; restore() refuses a malformed snapshot.
class FoldingApplication final : public pbft::Application {
 public:
  Bytes execute(ByteView operation, const pbft::RequestContext& context) override {
    ++executed_;
    fold_ = crypto::Hasher()
                .update(fold_.view())
                .update_field(operation)
                .update_u64(context.seq)
                .finish();
    return ByteWriter().u64(executed_).take();
  }
  Bytes snapshot() const override { return ByteWriter().u64(executed_).raw(fold_.view()).take(); }
  Status restore(ByteView snapshot) override {
    ByteReader reader(snapshot);
    auto executed = reader.u64();
    auto fold = reader.raw(crypto::Digest::kSize);
    if (!executed || !fold || !reader.done()) return Error{"malformed application snapshot"};
    executed_ = *executed;
    fold_ = *crypto::Digest::from_bytes(*fold);
    return ok_status();
  }

 private:
  std::uint64_t executed_ = 0;
  crypto::Digest fold_;
};

// What a driver keeps durable, with storage::MemoryStorage's contract (storage.h): the
// latest snapshot and the records after it, the snapshot's own records first. (Not
// MemoryStorage itself: phalanx_storage does not build with the fuzz preset's clang 14.)
class DurableStore {
 public:
  void append(const std::vector<pbft::DurableRecord>& records) {
    state_.records.insert(state_.records.end(), records.begin(), records.end());
  }
  void save(const pbft::Snapshot& snapshot) {
    state_.records = snapshot.records;
    state_.snapshot = snapshot;
    state_.snapshot->records.clear();
  }
  const pbft::DurableState& load() const { return state_; }
  void wipe() { state_ = pbft::DurableState{}; }

 private:
  pbft::DurableState state_;
};

std::optional<wire::Envelope> parse_envelope(ByteView bytes) {
  wire::Envelope envelope;
  if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  return envelope;
}

bool signed_vote(wire::Kind kind) {
  return kind == wire::PRE_PREPARE || kind == wire::PREPARE || kind == wire::COMMIT ||
         kind == wire::CHECKPOINT || kind == wire::VIEW_CHANGE || kind == wire::NEW_VIEW;
}

// The view an outgoing message announces the replica is in (or moving to).
std::optional<View> announced_view(const wire::Envelope& envelope) {
  if (envelope.kind() == wire::STATUS) {
    wire::Status status;
    if (!status.ParseFromString(envelope.payload())) return std::nullopt;
    return status.view();
  }
  if (envelope.kind() == wire::CHECKPOINT) return std::nullopt;
  auto slot = pbft::core::slot_content(envelope);
  return slot ? std::optional<View>(slot->view) : std::nullopt;
}

// What every step's actions must satisfy, beyond the core's own invariants:
// - what the replica signs is durable before it is sent, and so are the grounds of its
//   votes (durable.h, durability.cc);
// - it never signs two different messages for one slot, across restarts too (S5);
// - it never announces a view below one it announced before;
// - it executes each sequence number once, in order, and the same batch at a sequence
//   number whenever it executes it again after a restart (S1 for itself, S4);
// - each request at one sequence number, each reply to it with one result (S3);
// - it accuses only the Byzantine peer (S5: no correct replica is ever accused).
class ActionChecks {
 public:
  ActionChecks(ReplicaId tested, ReplicaId byzantine) : tested_(tested), byzantine_(byzantine) {}

  // The replica lost its durable state and rejoins as a new one. Its peers here are not
  // honest enough (they follow no protocol) to judge the rejoin rule, so what it signed
  // and executed before is forgotten.
  void forget() { *this = ActionChecks(tested_, byzantine_); }

  // A step's records and snapshot, made durable.
  void note_persisted(const pbft::Actions& actions) {
    note_durable(actions.persist);
    if (actions.snapshot) note_durable(actions.snapshot->records);
  }

  void check(const pbft::Actions& actions, const pbft::ReplicaStatus& before,
             const pbft::ReplicaStatus& after, bool recovered) {
    note_persisted(actions);
    for (const auto& outgoing : actions.send) check_sent(outgoing);
    check_executed(actions, before, after, recovered);
    check_requests(actions);
    for (const auto& evidence : actions.evidence)
      if (evidence.replica != byzantine_)
        fail("evidence against honest replica " + std::to_string(evidence.replica) + ": " +
             evidence.what);
    if (after.view < before.view && !recovered) fail("the replica's view went back");
  }

 private:
  using SlotKey = std::tuple<wire::Kind, View, Seq>;

  void note_durable(const std::vector<pbft::DurableRecord>& records) {
    using Type = pbft::DurableRecord::Type;
    for (const auto& record : records) {
      if (record.type == Type::kPrepared) {
        wire::SlotVotes votes;
        if (votes.ParseFromString(*record.bytes))
          prepared_.insert(SlotKey{wire::PREPARE, votes.view(), votes.seq()});
        continue;
      }
      auto envelope = parse_envelope(*record.bytes);
      if (!envelope) continue;
      if (record.type == Type::kSigned) {
        durable_.insert(crypto::blake2b(*record.bytes));
        check_slot(*envelope);  // signed, whether or not it is ever sent
      }
      if (record.type == Type::kSigned || record.type == Type::kPrePrepare ||
          record.type == Type::kNewView)
        note_pre_prepares(*envelope, record.type == Type::kSigned);
    }
  }

  // The pre-prepares a durable envelope holds: itself, or a NEW-VIEW's re-proposals (the
  // replica's own are durable as signed inside its NEW-VIEW).
  void note_pre_prepares(const wire::Envelope& envelope, bool own) {
    if (auto slot = pbft::core::slot_content(envelope);
        slot && envelope.kind() == wire::PRE_PREPARE)
      pre_prepared_.insert(std::make_tuple(slot->view, slot->seq, slot->content));
    wire::NewView new_view;
    if (envelope.kind() != wire::NEW_VIEW || !new_view.ParseFromString(envelope.payload())) return;
    for (const auto& pre_prepare : new_view.pre_prepares()) {
      if (own) durable_.insert(crypto::blake2b(pbft::encode(pre_prepare)));
      note_pre_prepares(pre_prepare, false);
    }
  }

  // durability.cc: its PREPARE only once the PRE-PREPARE it votes for is durable, its
  // COMMIT only once the PREPAREs that prepared the slot are.
  void check_vote_grounds(const wire::Envelope& envelope) {
    auto slot = pbft::core::slot_content(envelope);
    if (!slot) return;
    const std::string where = " for view " + std::to_string(slot->view) + " seq " +
                              std::to_string(slot->seq) + " before ";
    if (envelope.kind() == wire::PREPARE &&
        !pre_prepared_.count(std::make_tuple(slot->view, slot->seq, slot->content)))
      fail("the replica sent a PREPARE" + where + "the PRE-PREPARE was durable");
    if (envelope.kind() == wire::COMMIT &&
        !prepared_.count(SlotKey{wire::PREPARE, slot->view, slot->seq}))
      fail("the replica sent a COMMIT" + where + "its prepared certificate was durable");
  }

  void check_sent(const pbft::Outgoing& outgoing) {
    if (outgoing.to && *outgoing.to == tested_) fail("the replica sent a message to itself");
    auto envelope = parse_envelope(*outgoing.envelope);
    if (!envelope) fail("the replica sent bytes that are no envelope");
    if (envelope->kind() == wire::REQUEST || envelope->sender() != tested_) return;
    if (envelope->kind() != outgoing.kind) fail("Outgoing::kind differs from the envelope's");
    const std::string kind = wire::Kind_Name(envelope->kind());
    if (signed_vote(envelope->kind()) && !durable_.count(crypto::blake2b(*outgoing.envelope)))
      fail("the replica sent its " + kind + " before making it durable");
    check_vote_grounds(*envelope);
    check_slot(*envelope);
    if (auto view = announced_view(*envelope)) {
      if (*view < view_announced_)
        fail("the replica sent a " + kind + " for view " + std::to_string(*view) +
             " after announcing view " + std::to_string(view_announced_));
      view_announced_ = *view;
    }
  }

  void check_slot(const wire::Envelope& envelope) {
    if (auto slot = pbft::core::slot_content(envelope)) {
      auto [it, added] =
          signed_.try_emplace(SlotKey{envelope.kind(), slot->view, slot->seq}, slot->content);
      if (!added && it->second != slot->content)
        fail("the replica signed two different " + wire::Kind_Name(envelope.kind()) +
             "s for view " + std::to_string(slot->view) + " seq " + std::to_string(slot->seq));
    }
    wire::NewView new_view;
    if (envelope.kind() == wire::NEW_VIEW && new_view.ParseFromString(envelope.payload()))
      for (const auto& pre_prepare : new_view.pre_prepares()) check_slot(pre_prepare);
  }

  void check_executed(const pbft::Actions& actions, const pbft::ReplicaStatus& before,
                      const pbft::ReplicaStatus& after, bool recovered) {
    Seq expected = before.last_executed;
    for (const auto& event : actions.events) {
      if (event.type != pbft::Event::Type::kStateTransferDone) continue;
      if (event.value <= before.last_executed) fail("a state transfer to a state already reached");
      expected = event.value;
    }
    // Recovery re-executes from its snapshot, wherever that is.
    if (recovered)
      expected = actions.executed.empty() ? after.last_executed : actions.executed[0].seq - 1;
    for (const auto& batch : actions.executed) {
      if (batch.seq != expected + 1)
        fail("executed seq " + std::to_string(batch.seq) + " after " + std::to_string(expected));
      auto [it, added] = executed_.try_emplace(batch.seq, batch.digest);
      if (!added && it->second != batch.digest)
        fail("executed two different batches at seq " + std::to_string(batch.seq));
      expected = batch.seq;
    }
    if (after.last_executed != expected)
      fail("last executed " + std::to_string(after.last_executed) + " but executed up to " +
           std::to_string(expected));
  }

  // Each request executes at one seq, however often the replica executes that seq again
  // after restarts (S3), and every reply to it carries the same result.
  void check_requests(const pbft::Actions& actions) {
    for (const auto& batch : actions.executed)
      for (const auto& request : batch.requests) {
        if (request.duplicate) continue;
        auto [it, added] = executed_requests_.try_emplace(
            std::make_pair(request.client, request.request_id), batch.seq);
        if (!added && it->second != batch.seq)
          fail("request " + std::to_string(request.request_id) + " executed at seq " +
               std::to_string(it->second) + " and again at seq " + std::to_string(batch.seq));
      }
    for (const auto& reply : actions.replies) {
      auto envelope = parse_envelope(*reply.envelope);
      wire::Reply body;
      if (!envelope || envelope->sender() != tested_ ||
          !body.ParseFromString(envelope->payload()) || body.client_key() != reply.client.view())
        fail("the replica sent a malformed reply");
      auto [it, added] = results_.try_emplace(std::make_pair(reply.client, body.request_id()),
                                              crypto::blake2b(body.result()));
      if (!added && it->second != crypto::blake2b(body.result()))
        fail("two different results for request " + std::to_string(body.request_id()));
    }
  }

  ReplicaId tested_;
  ReplicaId byzantine_;
  std::map<std::pair<crypto::PublicKey, RequestId>, Seq> executed_requests_;
  std::map<std::pair<crypto::PublicKey, RequestId>, crypto::Digest> results_;
  std::set<crypto::Digest> durable_;  // digests of the envelopes it made durable as signed
  std::set<std::tuple<View, Seq, crypto::Digest>> pre_prepared_;  // durable pre-prepares
  std::set<SlotKey> prepared_;                // durable prepared certificates (kind PREPARE)
  std::map<SlotKey, crypto::Digest> signed_;  // what it signed per slot (core::slot_content)
  View view_announced_ = 0;
  std::map<Seq, crypto::Digest> executed_;
};

// The steps of a program, by their op byte (modulo kOpCount); Harness::run_op runs them.
enum Op : std::uint8_t {
  kRequest,
  kPrePrepare,
  kPrepare,
  kCommit,
  kCheckpoint,
  kViewChange,
  kNewView,
  kStatus,
  kCommitCertificate,
  kCheckpointCertificate,
  kFetchState,
  kStateChunk,
  kTick,
  kGarbage,
  kReplay,
  kHonestSlot,
  kHonestViewChange,
  kHonestStateTransfer,
  kRestart,
  kWipe,
  kCrash,
  kOpCount,
};

// The first two bytes of a program.
struct Setup {
  ReplicaId tested = 0;
  ReplicaId byzantine = 0;
  bool batch_times = false;

  static Setup read(Program& program) {
    Setup setup;
    setup.tested = static_cast<ReplicaId>(program.pick(kReplicas));
    std::uint8_t byte = program.byte();
    setup.byzantine = (setup.tested + 1 + byte % (kReplicas - 1)) % kReplicas;
    setup.batch_times = (byte / (kReplicas - 1)) % 2 == 1;
    return setup;
  }
};

// The driver of the replica under test, and the interpreter of the program: each step
// builds its messages (from Knowledge, signed by the Forge), delivers them through the
// edge, carries out the actions as a driver would (persist, then the rest) and checks them.
class Harness {
 public:
  Harness(Program& program, Setup setup)
      : program_(program),
        tested_(setup.tested),
        options_(fuzz_options(setup.batch_times)),
        verifier_(fuzz_verifier()),
        forge_(verifier_, setup.tested, setup.byzantine, options_.window()),
        composer_(setup.tested, options_, forge_, knowledge_),
        checks_(setup.tested, setup.byzantine) {
    for (ReplicaId id = 0; id < kReplicas; ++id)
      if (id != tested_) peers_.push_back(id);
    start_replica(false);
  }

  void run() {
    for (std::size_t step = 0; step < kStepsMax && deliveries_ < kDeliveriesMax && !program_.done();
         ++step) {
      if (tracing) std::fprintf(stderr, "step %zu: ", step);
      run_op(static_cast<Op>(program_.pick(kOpCount)));
    }
  }

 private:
  void run_op(Op op) {
    struct Step {
      const char* name;
      void (Harness::*run)();
    };
    static constexpr Step kSteps[] = {
        {"request", &Harness::request},
        {"pre-prepare", &Harness::pre_prepare},
        {"prepare", &Harness::prepare},
        {"commit", &Harness::commit},
        {"checkpoint", &Harness::checkpoint},
        {"view change", &Harness::view_change},
        {"new view", &Harness::new_view},
        {"status", &Harness::status_message},
        {"commit certificate", &Harness::commit_certificate},
        {"checkpoint certificate", &Harness::checkpoint_certificate},
        {"fetch state", &Harness::fetch_state},
        {"state chunk", &Harness::state_chunk},
        {"tick", &Harness::tick},
        {"garbage", &Harness::garbage},
        {"replay", &Harness::replay},
        {"honest slot", &Harness::honest_slot},
        {"honest view change", &Harness::honest_view_change},
        {"honest state transfer", &Harness::honest_state_transfer},
        {"restart", &Harness::restart},
        {"wipe", &Harness::wipe},
        {"crash in the next step", &Harness::crash},
    };
    static_assert(std::size(kSteps) == kOpCount, "one step per Op, in its order");
    if (tracing) std::fprintf(stderr, "%s\n", kSteps[op].name);
    (this->*kSteps[op].run)();
  }

  // --- driving the replica ----------------------------------------------------------------

  void start_replica(bool rejoin) {
    replica_.reset();  // before the application it borrows
    application_ = std::make_unique<FoldingApplication>();
    pbft::ReplicaSetup setup{verifier_, tested_, replica_key(tested_),
                             options_,  rejoin,  [this] { return wall_clock_ms(); }};
    replica_ = std::make_unique<pbft::Replica>(std::move(setup), *application_, now_);
    replica_->check_invariants();
  }

  pbft::UnixMillis wall_clock_ms() const { return kWallClockStart + now_ / kMillisecond; }
  pbft::ReplicaStatus status() const { return replica_->status(); }

  // Through the edge, as a driver would: the core sees only what open_envelope accepts.
  bool deliver(const std::optional<wire::Envelope>& envelope) {
    if (!envelope) return false;
    if (!deliver_bytes(pbft::encode(*envelope))) return false;
    knowledge_.note_accepted(*envelope);
    return true;
  }

  bool deliver_bytes(ByteView bytes) {
    ++deliveries_;
    pbft::Opened opened = pbft::open_envelope(bytes, verifier_, pbft::Audience::kReplica);
    if (!opened.ok()) {
      trace("rejected at the edge: " + std::string(pbft::to_string(opened.rejection)));
      return false;
    }
    trace("deliver " + wire::Kind_Name(opened.message->kind) + " from " +
          std::to_string(opened.message->sender));
    pbft::ReplicaStatus before = status();
    carry_out(replica_->on_message(*opened.message, now_), before, false);
    return true;
  }

  void carry_out(const pbft::Actions& actions, const pbft::ReplicaStatus& before, bool recovered) {
    if (crash_ != Crash::kNone) return crash_in_step(actions);
    store_.append(actions.persist);
    if (actions.snapshot) store_.save(*actions.snapshot);
    checks_.check(actions, before, status(), recovered);
    replica_->check_invariants();
    learn(actions);
    if (tracing) trace_actions(actions);
  }

  void learn(const pbft::Actions& actions) {
    for (const auto& outgoing : actions.send) {
      auto envelope = parse_envelope(*outgoing.envelope);
      if (!envelope || envelope->kind() == wire::REQUEST || envelope->sender() != tested_) continue;
      if (envelope->kind() == wire::STATE_CHUNK) check_served_chunk(*envelope);
      knowledge_.note_sent(*envelope, outgoing.to, forge_);
    }
    if (actions.snapshot && actions.snapshot->state)
      knowledge_.note_snapshot(*actions.snapshot, forge_);
  }

  // A chunk the replica serves verifies against the checkpoint it took at that seq.
  void check_served_chunk(const wire::Envelope& envelope) {
    wire::StateChunk chunk;
    if (!chunk.ParseFromString(envelope.payload())) fail("the replica served a malformed chunk");
    auto known = knowledge_.checkpoints.find(chunk.seq());
    if (known == knowledge_.checkpoints.end()) return;
    std::vector<crypto::Digest> path;
    for (const auto& sibling : chunk.merkle_path())
      path.push_back(crypto::Digest::from_bytes(sibling).value_or(crypto::Digest{}));
    const std::uint64_t size = known->second.size;
    if (!pbft::core::merkle_verify(known->second.digest, size, chunk.chunk_index(),
                                   pbft::core::chunk_count(size, options_.state_chunk_bytes),
                                   chunk.data(), path))
      fail("the replica served a chunk of seq " + std::to_string(chunk.seq()) +
           " that fails its Merkle proof");
  }

  void trace_actions(const pbft::Actions& actions) const {
    std::string line = "-> view " + std::to_string(status().view) +
                       (status().view_changing ? " (changing)" : "") + ", executed " +
                       std::to_string(status().last_executed) + ", stable " +
                       std::to_string(status().stable_seq) + "; sent";
    for (const auto& outgoing : actions.send) line += " " + wire::Kind_Name(outgoing.kind);
    for (const auto& batch : actions.executed) line += "; executed " + std::to_string(batch.seq);
    for (const auto& event : actions.events)
      line += "; " + std::string(pbft::to_string(event.type)) + " " + std::to_string(event.value) +
              (event.detail.empty() ? "" : " (" + event.detail + ")");
    trace(line);
  }

  // --- choices: mostly values that match the replica's state ---------------------------

  ReplicaId choose_peer() { return peers_[program_.pick(peers_.size())]; }

  // Each choice below is one byte: a value that matches the replica's state, or (the last
  // choice) whatever the next bytes say.
  View choose_view() {
    const View view = status().view;
    const View candidates[] = {view, view, view, view, view + 1, view > 0 ? view - 1 : 0, view + 2};
    const std::size_t choice = program_.pick(std::size(candidates) + 1);
    return choice < std::size(candidates) ? candidates[choice] : program_.u64();
  }

  Seq choose_seq() {
    const pbft::ReplicaStatus now = status();
    const Seq candidates[] = {now.last_executed + 1,
                              now.last_executed + 2,
                              knowledge_.next_seq(now.view, now.last_executed),
                              now.stable_seq + options_.window(),
                              now.stable_seq + options_.window() + 1,
                              now.last_executed,
                              now.stable_seq + options_.checkpoint_interval};
    const std::size_t choice = program_.pick(std::size(candidates) + 1);
    return choice < std::size(candidates) ? candidates[choice] : program_.u64();
  }

  crypto::Digest choose_digest() {
    switch (program_.pick(4)) {
      case 0:
      case 1:
        if (const KnownBatch* batch = choose_batch()) return digest_of(*batch);
        return crypto::Digest{};
      case 2:
        return pbft::batch_digest(wire::PrePrepare{});  // the null batch
      default: {
        std::array<std::uint8_t, crypto::Digest::kSize> bytes{};
        for (auto& byte : bytes) byte = program_.byte();
        return crypto::Digest(bytes);
      }
    }
  }

  const KnownBatch* choose_batch() {
    std::uint8_t byte = program_.byte();
    if (knowledge_.batches.empty()) return nullptr;
    return &knowledge_.batches[knowledge_.batches.size() - 1 - byte % knowledge_.batches.size()];
  }

  // A checkpoint the replica took, or nullopt (none known, or the program says another).
  std::optional<Seq> choose_checkpoint() {
    std::uint8_t byte = program_.byte();
    if (knowledge_.checkpoints.empty() || byte % 4 == 3) return std::nullopt;
    auto it = knowledge_.checkpoints.rbegin();
    std::advance(it, (byte / 4) % knowledge_.checkpoints.size());
    return it->first;
  }

  pbft::UnixMillis choose_batch_time() {
    switch (program_.pick(4)) {
      case 2:
        return wall_clock_ms();
      case 3:
        return program_.u64();
      default:
        return next_batch_time();
    }
  }

  // After every known batch's time, and the replica's clock (when batch times are on).
  pbft::UnixMillis next_batch_time() const {
    if (options_.batch_time_skew_max == 0) return 0;
    const pbft::UnixMillis now = wall_clock_ms();
    const pbft::UnixMillis latest = now + options_.batch_time_skew_max / kMillisecond;
    pbft::UnixMillis time = now;
    for (const auto& batch : knowledge_.batches)  // a Byzantine primary's far-off times aside
      if (batch.body.batch_time() < latest) time = std::max(time, batch.body.batch_time() + 1);
    return time;
  }

  wire::Envelope fresh_request() {
    const std::uint64_t client = next_client_++ % kClients;
    const RequestId id = ++request_ids_[client];
    return signed_request(client, id, "op " + std::to_string(id));
  }

  // --- steps: one message each -----------------------------------------------------------

  void request() {
    const std::uint64_t client = program_.pick(kClients);
    RequestId& last = request_ids_[client];
    switch (program_.pick(4)) {
      case 0:
        ++last;
        break;
      case 1:
        break;
      case 2:
        last = last > 1 ? last - 1 : 1;
        break;
      default:
        last = program_.u64();
        break;
    }
    deliver(signed_request(client, last, program_.bytes(16)));
  }

  void pre_prepare() {
    const View view = choose_view();
    wire::PrePrepare body;
    body.set_view(view);
    body.set_seq(choose_seq());
    const std::uint8_t mask = program_.byte();
    const auto& requests = knowledge_.requests;
    for (std::size_t i = 0; i < requests.size() && i < 8; ++i)
      if ((mask >> i) & 1) *body.add_requests() = requests[requests.size() - 1 - i];
    body.set_batch_time(choose_batch_time());
    body.set_digest(pbft::batch_digest(body).bytes());
    if (program_.pick(16) == 0) body.set_digest(choose_digest().bytes());
    const ReplicaId sender =
        program_.pick(8) == 0 ? choose_peer() : pbft::Quorums{kReplicas}.primary(view);
    deliver(forge_.sign(sender, wire::PRE_PREPARE, body));
  }

  void prepare() { vote(wire::PREPARE); }
  void commit() { vote(wire::COMMIT); }

  void vote(wire::Kind kind) {
    const ReplicaId sender = choose_peer();
    View view = 0;
    Seq seq = 0;
    crypto::Digest digest;
    const KnownBatch* batch = program_.pick(2) == 0 ? choose_batch() : nullptr;
    if (batch) {
      view = batch->body.view();
      seq = batch->body.seq();
      digest = digest_of(*batch);
    } else {
      view = choose_view();
      seq = choose_seq();
      digest = choose_digest();
    }
    deliver(kind == wire::PREPARE
                ? forge_.sign(sender, kind, vote_body<wire::Prepare>(view, seq, digest))
                : forge_.sign(sender, kind, vote_body<wire::Commit>(view, seq, digest)));
  }

  void checkpoint() {
    const ReplicaId sender = choose_peer();
    wire::Checkpoint body;
    if (auto seq = choose_checkpoint()) {
      const KnownCheckpoint& known = knowledge_.checkpoints.at(*seq);
      body.set_seq(*seq);
      body.set_state_digest(known.digest.bytes());
      body.set_state_size(known.size);
    } else {
      body.set_seq(choose_seq());
      body.set_state_digest(choose_digest().bytes());
      body.set_state_size(program_.byte());
    }
    deliver(forge_.sign(sender, wire::CHECKPOINT, body));
  }

  void view_change() {
    const ReplicaId sender = choose_peer();
    const View new_view = program_.pick(2) == 0 ? status().view + 1 : choose_view();
    if (program_.pick(4) == 0) {
      deliver(composer_.honest_view_change(sender, new_view));
      return;
    }
    const Seq stable = choose_checkpoint().value_or(0);
    const std::uint8_t mask = program_.byte();
    std::map<Seq, KnownBatch> chosen;  // one per seq, in increasing seq
    const auto& batches = knowledge_.batches;
    for (std::size_t i = 0; i < batches.size() && i < 8; ++i)
      if ((mask >> i) & 1)
        chosen.try_emplace(batches[batches.size() - 1 - i].body.seq(),
                           batches[batches.size() - 1 - i]);
    std::vector<KnownBatch> prepared;
    for (auto& [seq, batch] : chosen) prepared.push_back(batch);
    deliver(composer_.view_change(sender, new_view, stable, prepared));
  }

  void new_view() {
    View view = choose_view();
    const std::uint8_t exclude = program_.byte();
    const std::uint8_t lie = program_.byte();
    if (program_.pick(2) == 0 && !knowledge_.view_changes.empty()) {
      auto it = knowledge_.view_changes.rbegin();
      std::advance(it, exclude % knowledge_.view_changes.size());
      view = it->first;
    }
    deliver(new_view_for(view, static_cast<ReplicaId>(exclude % kReplicas), lie));
  }

  // A NEW-VIEW for `view` from its primary, over three view changes (the peers' honest
  // ones made where missing), leaving out `excluded` when four are at hand.
  std::optional<wire::Envelope> new_view_for(View view, ReplicaId excluded, std::uint8_t lie) {
    if (pbft::Quorums{kReplicas}.primary(view) == tested_) return std::nullopt;
    for (ReplicaId peer : peers_) {
      if (knowledge_.view_changes[view].count(peer)) continue;
      auto made = composer_.honest_view_change(peer, view);
      if (made && pbft::open_decoded(std::make_shared<const wire::Envelope>(*made), verifier_,
                                     pbft::Audience::kReplica)
                      .ok())
        knowledge_.add_view_change(*made);
    }
    std::vector<wire::Envelope> chosen;
    const auto& available = knowledge_.view_changes[view];
    for (const auto& [sender, envelope] : available)
      if (chosen.size() < 3 && (available.size() < kReplicas || sender != excluded))
        chosen.push_back(envelope);
    if (chosen.size() < 3) return std::nullopt;
    return composer_.new_view(view, chosen, lie);
  }

  void status_message() {
    const ReplicaId sender = choose_peer();
    wire::Status body;
    body.set_view(choose_view());
    body.set_view_changing(program_.pick(2) == 1);
    body.set_last_executed(choose_seq());
    switch (program_.pick(4)) {
      case 0:
        break;
      case 1:
        body.set_stable_seq(status().stable_seq);
        break;
      case 2:
        body.set_stable_seq(choose_checkpoint().value_or(0));
        break;
      default:
        body.set_stable_seq(choose_seq());
        break;
    }
    deliver(forge_.sign(sender, wire::STATUS, body));
  }

  void commit_certificate() {
    const ReplicaId sender = choose_peer();
    const auto excluded = static_cast<ReplicaId>(program_.pick(kReplicas));
    const KnownBatch* batch = choose_batch();
    if (batch) deliver(composer_.commit_certificate(sender, KnownBatch(*batch), excluded));
  }

  void checkpoint_certificate() {
    const ReplicaId sender = choose_peer();
    const auto excluded = static_cast<ReplicaId>(program_.pick(kReplicas));
    if (auto seq = choose_checkpoint())
      deliver(composer_.checkpoint_certificate(sender, *seq, excluded));
  }

  void fetch_state() {
    const ReplicaId sender = choose_peer();
    wire::FetchState body;
    body.set_seq(program_.pick(2) == 0 ? choose_checkpoint().value_or(status().stable_seq)
                                       : choose_seq());
    body.set_chunk_index(program_.byte() % 16);
    deliver(forge_.sign(sender, wire::FETCH_STATE, body));
  }

  // Mostly an answer to a FETCH_STATE the replica sent, from the peer it asked.
  void state_chunk() {
    ReplicaId sender = choose_peer();
    const std::uint8_t byte = program_.byte();
    const bool corrupt = program_.pick(8) == 0;
    Seq seq = 0;
    std::uint64_t index = byte % 16;
    if (!knowledge_.fetches.empty() && byte % 4 != 0) {
      const FetchRequest& asked = knowledge_.fetches[byte / 4 % knowledge_.fetches.size()];
      if (byte % 4 != 1) sender = asked.to;
      seq = asked.seq;
      index = asked.index;
    } else {
      seq = choose_checkpoint().value_or(status().stable_seq);
    }
    deliver(composer_.state_chunk(sender, seq, index, corrupt));
  }

  void tick() {
    const Instant steps[] = {kMillisecond, options_.status_interval, options_.request_relay_delay,
                             options_.view_timeout_initial};
    const std::size_t choice = program_.pick(std::size(steps) + 2);
    if (choice < std::size(steps))
      now_ += steps[choice];
    else if (choice == std::size(steps))
      now_ = std::max(now_, replica_->next_deadline());
    else
      now_ += program_.byte() * 10 * kMillisecond;
    advance();
  }

  void advance() {
    trace("tick at " + std::to_string(now_ / kMillisecond) + " ms");
    pbft::ReplicaStatus before = status();
    carry_out(replica_->on_tick(now_), before, false);
  }

  // Bytes the edge should refuse: raw, a flipped bit in a good envelope, or a signed
  // payload of any kind (REPLY included) that is no valid message of it.
  void garbage() {
    switch (program_.pick(3)) {
      case 0:
        deliver_bytes(program_.bytes(64));
        return;
      case 1: {
        if (knowledge_.accepted.empty()) return;
        Bytes bytes = pbft::encode(knowledge_.accepted[program_.pick(knowledge_.accepted.size())]);
        bytes[program_.u64() % bytes.size()] ^= static_cast<char>(1 << program_.pick(8));
        deliver_bytes(bytes);
        return;
      }
      default: {
        const auto kind = static_cast<wire::Kind>(program_.pick(wire::Kind_ARRAYSIZE));
        const ReplicaId sender = choose_peer();
        deliver(forge_.sign(sender, kind, program_.bytes(48)));
        return;
      }
    }
  }

  // A duplicate of a delivered message, or one of the replica's own coming back.
  void replay() {
    const auto& pool = program_.pick(2) == 0 ? knowledge_.accepted : knowledge_.own_sent;
    const std::uint8_t byte = program_.byte();
    if (!pool.empty()) deliver(wire::Envelope(pool[byte % pool.size()]));
  }

  // --- steps: the honest cluster moves on ------------------------------------------------

  // One more batch ordered in the current view, as correct replicas order it: a client's
  // request to every replica, the primary's PRE-PREPARE (the replica's own when it is the
  // primary), the peers' PREPAREs and COMMITs, then their CHECKPOINTs.
  void honest_slot() {
    const pbft::ReplicaStatus now = status();
    if (now.view_changing) return;
    deliver(fresh_request());
    const ReplicaId primary = pbft::Quorums{kReplicas}.primary(now.view);
    auto batch = primary == tested_ ? own_proposal(now.view) : propose(now.view);
    if (batch) vote_round(*batch);
  }

  std::optional<KnownBatch> propose(View view) {
    wire::PrePrepare body;
    body.set_view(view);
    body.set_seq(knowledge_.next_seq(view, status().last_executed));
    *body.add_requests() = knowledge_.requests.back();
    body.set_batch_time(next_batch_time());
    body.set_digest(pbft::batch_digest(body).bytes());
    auto envelope = forge_.sign(pbft::Quorums{kReplicas}.primary(view), wire::PRE_PREPARE, body);
    if (!envelope) return std::nullopt;
    deliver(envelope);
    KnownBatch batch{std::make_shared<const wire::Envelope>(*envelope), {}, false};
    if (!batch.body.ParseFromString(envelope->payload())) return std::nullopt;
    return batch;
  }

  // The lowest batch the replica proposed in `view` that the peers have not voted for; a
  // batch delay passes first when there is none yet.
  std::optional<KnownBatch> own_proposal(View view) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const KnownBatch* lowest = nullptr;
      for (const auto& batch : knowledge_.batches)
        if (batch.pre_prepare->sender() == tested_ && batch.body.view() == view &&
            !batch.prepared && batch.body.seq() > status().last_executed &&
            (!lowest || batch.body.seq() < lowest->body.seq()))
          lowest = &batch;
      if (lowest) return *lowest;
      now_ += options_.batch_delay_max;
      advance();
    }
    return std::nullopt;
  }

  // The peers' votes for a batch, as many as the replica needs to commit it (2f PREPAREs
  // and 2f+1 COMMITs, its own counted): more would repeat the paths of late votes, which
  // the other steps reach, at a signature check each.
  void vote_round(const KnownBatch& batch) {
    const pbft::Quorums quorums{kReplicas};
    const View view = batch.body.view();
    const Seq seq = batch.body.seq();
    const crypto::Digest digest = digest_of(batch);
    const ReplicaId primary = quorums.primary(view);
    const bool votes = !status().rejoining;
    std::size_t prepares = 2 * quorums.f() - (votes && primary != tested_ ? 1 : 0);
    for (ReplicaId peer : peers_)
      if (peer != primary && prepares > 0 && prepares--)
        deliver(forge_.sign(peer, wire::PREPARE, vote_body<wire::Prepare>(view, seq, digest)));
    knowledge_.mark_prepared(batch);
    std::size_t commits = quorums.quorum() - (votes ? 1 : 0);
    for (ReplicaId peer : peers_)
      if (commits > 0 && commits--)
        deliver(forge_.sign(peer, wire::COMMIT, vote_body<wire::Commit>(view, seq, digest)));
    vote_checkpoints();
  }

  // 2f+1 CHECKPOINTs with the replica's own, for each checkpoint it took.
  void vote_checkpoints() {
    std::vector<Seq> unvoted;
    for (const auto& [seq, known] : knowledge_.checkpoints)
      if (!known.voted && known.own) unvoted.push_back(seq);
    for (Seq seq : unvoted) {
      const KnownCheckpoint& known = knowledge_.checkpoints.at(seq);
      wire::Checkpoint body;
      body.set_seq(seq);
      body.set_state_digest(known.digest.bytes());
      body.set_state_size(known.size);
      for (std::size_t i = 0; i + 1 < pbft::Quorums{kReplicas}.quorum(); ++i)
        deliver(forge_.sign(peers_[i], wire::CHECKPOINT, body));
      knowledge_.checkpoints.at(seq).voted = true;
    }
  }

  // Every peer asks for the next view; its primary (when a peer) sends the NEW-VIEW, and
  // the peers vote for the re-proposals.
  void honest_view_change() {
    const pbft::ReplicaStatus now = status();
    const View target = now.view_changing ? now.view : now.view + 1;
    for (ReplicaId peer : peers_) deliver(composer_.honest_view_change(peer, target));
    if (pbft::Quorums{kReplicas}.primary(target) != tested_)
      deliver(new_view_for(target, forge_.byzantine(), 0));
    std::vector<KnownBatch> reproposals;
    for (const auto& batch : knowledge_.batches)
      if (batch.body.view() == target && batch.body.seq() > status().last_executed)
        reproposals.push_back(batch);
    for (const auto& batch : reproposals) vote_round(batch);
  }

  // The peers serve every chunk the replica asks for, as long as it asks (a few rounds of
  // state_chunks_in_flight), each from the peer asked.
  void honest_state_transfer() {
    for (std::size_t served = 0; served < 4 * options_.state_chunks_in_flight; ++served) {
      if (knowledge_.fetches.empty()) return;
      const FetchRequest asked = knowledge_.fetches.front();
      knowledge_.fetches.pop_front();
      deliver(composer_.state_chunk(asked.to, asked.seq, asked.index, false));
    }
  }

  // --- steps: crashes ----------------------------------------------------------------------

  // The process restarts with what it made durable (storage.h's contract).
  void restart() {
    trace("restart");
    start_replica(false);
    pbft::ReplicaStatus before = status();
    auto recovered = replica_->recover(store_.load(), now_);
    if (!recovered.ok())
      fail("the replica cannot recover from its own records: " + recovered.error().message);
    carry_out(recovered.value(), before, true);
  }

  // The process dies during its next step: before the step's records are durable, or
  // after (its messages and replies never leave, in both cases).
  void crash() { crash_ = program_.pick(2) == 0 ? Crash::kBeforeRecords : Crash::kAfterRecords; }

  void crash_in_step(const pbft::Actions& actions) {
    if (crash_ == Crash::kAfterRecords) {
      store_.append(actions.persist);
      if (actions.snapshot) store_.save(*actions.snapshot);
      checks_.note_persisted(actions);
    }
    trace(crash_ == Crash::kAfterRecords ? "crash before sending" : "crash before persisting");
    crash_ = Crash::kNone;
    restart();
  }

  // The data directory is lost: the replica rejoins without it (ReplicaSetup::rejoin).
  void wipe() {
    trace("wipe");
    store_.wipe();
    checks_.forget();
    knowledge_.fetches.clear();
    start_replica(true);
  }

  Program& program_;
  const ReplicaId tested_;
  const pbft::ReplicaOptions options_;
  std::vector<ReplicaId> peers_;
  const pbft::Verifier& verifier_;
  Forge forge_;
  Knowledge knowledge_;
  Composer composer_;
  ActionChecks checks_;
  DurableStore store_;
  std::unique_ptr<FoldingApplication> application_;
  std::unique_ptr<pbft::Replica> replica_;
  enum class Crash { kNone, kBeforeRecords, kAfterRecords };
  Crash crash_ = Crash::kNone;  // armed for the next step
  Instant now_ = kStartTime;
  std::size_t deliveries_ = 0;
  std::uint64_t next_client_ = 0;
  std::array<RequestId, kClients> request_ids_{};
};

// --- seed programs ---------------------------------------------------------------------

// Writes programs in Harness's encoding: an op byte, then the bytes its choices read.
class ProgramWriter {
 public:
  // `setup`: the second byte of Setup (the Byzantine peer and batch times).
  ProgramWriter(ReplicaId tested, std::uint8_t setup) : bytes_{static_cast<char>(tested)} {
    bytes_.push_back(static_cast<char>(setup));
  }
  ProgramWriter& op(Op op, std::initializer_list<std::uint8_t> choices = {}, int times = 1) {
    for (int i = 0; i < times; ++i) {
      bytes_.push_back(static_cast<char>(op));
      for (std::uint8_t choice : choices) bytes_.push_back(static_cast<char>(choice));
    }
    return *this;
  }
  Bytes take() { return std::move(bytes_); }

 private:
  Bytes bytes_;
};

// Honest runs through the parts of the protocol a program rarely reaches by chance: the
// normal case past two checkpoints, view changes to the replica and away from it, a view
// change by timeout, restarts (between steps and within them), a state transfer after the
// data is lost, an equivocating primary. The fuzzer varies them.
std::vector<std::pair<std::string, Bytes>> seed_programs() {
  std::vector<std::pair<std::string, Bytes>> seeds;
  seeds.emplace_back("normal_case_backup",
                     ProgramWriter(1, 0).op(kHonestSlot, {}, 9).op(kTick, {1}, 2).take());
  seeds.emplace_back("normal_case_primary",
                     ProgramWriter(0, 0).op(kHonestSlot, {}, 6).op(kTick, {1}).take());
  seeds.emplace_back("batch_times", ProgramWriter(2, 3).op(kHonestSlot, {}, 5).take());
  seeds.emplace_back("view_change_to_tested", ProgramWriter(1, 0)
                                                  .op(kHonestSlot, {}, 3)
                                                  .op(kHonestViewChange)
                                                  .op(kHonestSlot, {}, 3)
                                                  .take());
  seeds.emplace_back("view_change_backup", ProgramWriter(2, 0)
                                               .op(kHonestSlot, {}, 3)
                                               .op(kHonestViewChange)
                                               .op(kHonestSlot, {}, 3)
                                               .take());
  seeds.emplace_back("view_timeout", ProgramWriter(3, 0)
                                         .op(kRequest, {0, 0, 0})
                                         .op(kTick, {3}, 2)
                                         .op(kHonestViewChange)
                                         .op(kHonestSlot, {}, 2)
                                         .take());
  seeds.emplace_back(
      "restart",
      ProgramWriter(1, 0).op(kHonestSlot, {}, 6).op(kRestart).op(kHonestSlot, {}, 3).take());
  seeds.emplace_back("crash_in_steps", ProgramWriter(3, 1)
                                           .op(kHonestSlot, {}, 5)
                                           .op(kCrash, {1})
                                           .op(kHonestSlot)
                                           .op(kCrash, {0})
                                           .op(kHonestSlot, {}, 3)
                                           .take());
  seeds.emplace_back("state_transfer", ProgramWriter(1, 0)
                                           .op(kHonestSlot, {}, 9)
                                           .op(kWipe)
                                           .op(kCheckpointCertificate, {0, 1, 0})
                                           .op(kTick, {1}, 5)
                                           .op(kHonestStateTransfer)
                                           .op(kHonestSlot, {}, 2)
                                           .take());
  // The chunks one by one, each from the peer asked; the fourth one corrupted.
  ProgramWriter chunks(2, 1);
  chunks.op(kHonestSlot, {}, 8).op(kWipe).op(kCheckpointCertificate, {1, 2, 0}).op(kTick, {1}, 5);
  for (std::uint8_t chunk = 0; chunk < 10; ++chunk) {
    const std::uint8_t fetch = 2 + 4 * chunk;  // the chunk-th request, from the peer asked
    const std::uint8_t intact = chunk != 3;    // 0 corrupts it
    chunks.op(kStateChunk, {0, fetch, intact});
  }
  seeds.emplace_back("state_chunks", chunks.take());
  seeds.emplace_back("equivocating_primary", ProgramWriter(1, 2)
                                                 .op(kHonestSlot, {}, 2)
                                                 .op(kPrePrepare, {0, 5, 0, 0, 1, 1})
                                                 .op(kHonestViewChange)
                                                 .op(kHonestSlot)
                                                 .take());
  return seeds;
}

void write_seeds(const std::string& directory) {
  for (const auto& [name, program] : seed_programs()) {
    std::ofstream out(directory + "/" + name, std::ios::binary);
    out << program;
    if (!out) {
      std::fprintf(stderr, "fuzz_replica: cannot write %s/%s\n", directory.c_str(), name.c_str());
      std::exit(1);
    }
  }
}

// Adds a libFuzzer flag unless the command line sets it (libFuzzer parses the flags after
// LLVMFuzzerInitialize, which may change them).
void default_flag(int* argc, char*** argv, const char* flag) {
  const std::string_view name = std::string_view(flag).substr(0, std::string_view(flag).find('='));
  for (int i = 1; i < *argc; ++i)
    if (std::string_view((*argv)[i]).substr(0, name.size() + 1) == std::string(name) + "=") return;
  static std::vector<char*> arguments;
  arguments.assign(*argv, *argv + *argc);
  arguments.push_back(const_cast<char*>(flag));
  arguments.push_back(nullptr);
  *argv = arguments.data();
  ++*argc;
}

}  // namespace
}  // namespace phalanx::fuzz

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  using namespace phalanx::fuzz;
  default_flag(argc, argv, "-entropic=0");
  tracing = std::getenv("PHALANX_FUZZ_REPLICA_TRACE") != nullptr;
  if (const char* directory = std::getenv("PHALANX_FUZZ_REPLICA_SEEDS")) {
    write_seeds(directory);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace phalanx::fuzz;
  Program program(data, size);
  Setup setup = Setup::read(program);
  Harness(program, setup).run();
  return 0;
}
