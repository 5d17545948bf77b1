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
// - begin_batch() and end_batch() bracket the execute() calls of each committed batch
//   that carries requests (a ledger makes a block of it); both are optional. A request
//   the batch repeats (executed before) is not executed again, so a batch may bracket
//   fewer execute() calls than it has requests, or none.
// - snapshot() is taken at every checkpoint (every K sequence numbers); restore() replaces
//   the whole state with a snapshot taken by another correct replica at the same point.
//   restore() reports a malformed snapshot as an Error (the caller then tries another).
//
// Thread-safety: a replica calls its application from one thread at a time.

#include "phalanx/base/bytes.h"
#include "phalanx/base/result.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft {

// What the application may know about the request it executes. All of it is agreed.
struct RequestContext {
  crypto::PublicKey client;
  RequestId request_id = 0;
  Seq seq = 0;  // the batch's sequence number
  // The batch's agreed time (unix ms), when the cluster has batch times on
  // (ReplicaOptions::batch_time_skew_max); 0 when off. Strictly increasing from batch to
  // batch; the primary proposed it and every correct backup that prepared the batch found
  // it within the skew bound of its own clock. Use it, never a clock of your own.
  UnixMillis time = 0;
  // No view: replicas may execute one batch in different views (a lagging replica
  // catches up after a view change), and the context must be the same everywhere.
};

// A committed batch, as begin_batch/end_batch see it.
struct BatchContext {
  Seq seq = 0;
  UnixMillis time = 0;         // as RequestContext::time
  std::size_t requests = 0;    // requests the batch carries, repeats included
  crypto::Digest digest = {};  // the batch digest every replica committed
};

class Application {
 public:
  virtual ~Application() = default;
  virtual Bytes execute(ByteView operation, const RequestContext& context) = 0;
  virtual Bytes snapshot() const = 0;
  virtual Status restore(ByteView snapshot) = 0;
  virtual void begin_batch(const BatchContext& /*batch*/) {}
  virtual void end_batch(const BatchContext& /*batch*/) {}
};

}  // namespace phalanx::pbft
