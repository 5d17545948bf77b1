#include "phalanx/lock/lock_application.h"

namespace phalanx::lock {

Bytes LockApplication::execute(ByteView operation, const pbft::RequestContext& context) {
  auto decoded = decode(operation);
  if (!decoded.ok()) {
    Reply reply;
    reply.outcome = Outcome::kMalformed;
    reply.detail = "malformed operation: " + decoded.error().message;
    return encode(reply);
  }
  return encode(table_.apply(decoded.value(), context.client, context.time));
}

}  // namespace phalanx::lock
