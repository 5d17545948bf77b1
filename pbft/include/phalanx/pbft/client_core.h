#pragma once
// pbft::ClientCore: the client side of PBFT as a pure state machine (PBFT 4.1).
//
// A ClientCore has at most one request outstanding: replicas keep only the last reply per
// client (that is what makes execution exactly-once), so a client that wants many requests
// in flight uses many identities. It sends a request to every replica (send_to_all, the
// default: the backups then watch the primary) or to the primary of the view it believes
// current; accepts a result once f+1 replicas sent matching replies; on timeout sends the
// request to every replica again, with doubling waits.
//
// Thread-safety: none; one thread drives a ClientCore. No I/O, clocks or randomness.

#include <optional>
#include <vector>

#include "phalanx/crypto/keys.h"
#include "phalanx/pbft/actions.h"
#include "phalanx/pbft/options.h"
#include "phalanx/pbft/types.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::pbft {

struct Completion {
  RequestId request_id = 0;
  Bytes result;
  View view = 0;  // the view the accepting replies reported
  Instant submitted_at = 0;
  Instant completed_at = 0;
};

struct ClientActions {
  std::vector<Outgoing> send;  // `to` is a replica id, or nullopt for all replicas
  std::optional<Completion> completed;
  bool retried = false;  // `send` is a retry of the outstanding request
};

class ClientCore {
 public:
  // `first_request_id` must exceed every id this key used before (replicas ignore
  // requests at or below a client's last executed id).
  ClientCore(Verifier verifier, crypto::SecretKey key, ClientOptions options,
             RequestId first_request_id = 1);

  bool busy() const { return outstanding_.has_value(); }
  // Whether a reply to `request_id` could still count (the outstanding request's id).
  bool awaits(RequestId request_id) const {
    return outstanding_ && outstanding_->request_id == request_id;
  }
  const crypto::PublicKey& public_key() const { return signer_.public_key(); }
  View view() const { return view_; }
  // What opens this client's replies: the cluster's Verifier, plus this client's MAC keys
  // when it authenticates with MACs (ClientOptions::mac_authenticators).
  const Verifier& verifier() const { return verifier_; }

  // Starts a request. Precondition: !busy().
  ClientActions submit(Bytes operation, Instant now);
  // A verified REPLY.
  ClientActions on_reply(const Message& reply, Instant now);
  ClientActions on_tick(Instant now);
  Instant next_deadline() const;
  // Gives up on the outstanding request (the caller's deadline passed). Its id is not
  // reused; if replicas execute it later, the reply is ignored.
  void abandon() { outstanding_.reset(); }

 private:
  struct Outstanding {
    RequestId request_id;
    SharedBytes envelope;
    Instant submitted_at;
    Instant retry_at;
    Instant retry_timeout;
    // replica id -> (result digest, view) of its reply; f+1 equal digests accept.
    std::vector<std::optional<std::pair<crypto::Digest, View>>> replies;
    std::vector<Bytes> results;  // by replica id, the result bytes each sent
  };

  Verifier verifier_;
  crypto::Signer signer_;
  ClientOptions options_;
  RequestId next_request_id_;
  View view_ = 0;
  std::optional<Outstanding> outstanding_;
};

}  // namespace phalanx::pbft
