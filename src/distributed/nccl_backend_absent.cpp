#include "common/error.h"
#include "distributed/nccl_backend.h"

namespace codealign::distributed {

c10::intrusive_ptr<c10d::Backend> nccl_backend(const c10::intrusive_ptr<c10d::Store>&, const World&,
                                               std::chrono::milliseconds) {
  throw Error("distributed: this build has no NCCL (nccl.h was not found when it was configured; hint: "
              "--dist-backend gloo, or rebuild after scripts/setup.sh, which installs the nvidia-nccl package)");
}

}  // namespace codealign::distributed
