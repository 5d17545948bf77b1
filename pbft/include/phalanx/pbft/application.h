#pragma once
// The interface an embedded application implements. Phalanx orders requests; the
// application gives them meaning.
//
// Contract (the replicas agree only if it holds):
// - Deterministic: execute() depends only on the application's state, the operation and
//   the context; no clocks, randomness, thread scheduling or I/O that can differ between
//   replicas. Equal states must give byte-identical snapshot()s.
// - execute() is called for committed requests only, in sequence order, each (client,
//   request id) at most once; the result is sent to the client as the reply.
// - snapshot() is taken at every checkpoint (every K sequence numbers); restore() replaces
//   the whole state with a snapshot taken by another correct replica at the same point.
//   restore() reports a malformed snapshot as an Error (the caller then tries another).
//
// Thread-safety: a replica calls its application from one thread at a time.

#include "phalanx/base/bytes.h"
#include "phalanx/base/result.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft {

// What the application may know about the request it executes. All of it is agreed.
struct RequestContext {
  crypto::PublicKey client;
  RequestId request_id = 0;
  Seq seq = 0;  // the batch's sequence number
  // No view: replicas may execute one batch in different views (a lagging replica
  // catches up after a view change), and the context must be the same everywhere.
};

class Application {
 public:
  virtual ~Application() = default;
  virtual Bytes execute(ByteView operation, const RequestContext& context) = 0;
  virtual Bytes snapshot() const = 0;
  virtual Status restore(ByteView snapshot) = 0;
};

}  // namespace phalanx::pbft
