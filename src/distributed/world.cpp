#include "distributed/world.h"

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "common/error.h"

namespace codealign::distributed {
namespace {

using Getenv = std::function<const char*(const char*)>;

std::optional<int> integer(const Getenv& getenv, const char* name, int minimum) {
  const char* text = getenv(name);
  if (!text) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || value < minimum || value > (1 << 30))
    throw Error("distributed: $" + std::string(name) + " is '" + text + "', not an integer of at least " +
                std::to_string(minimum));
  return int(value);
}

int required_integer(const Getenv& getenv, const char* name, int minimum, const char* launcher) {
  std::optional<int> value = integer(getenv, name, minimum);
  if (!value) throw Error("distributed: $" + std::string(name) + " is not set (" + launcher + " sets it)");
  return *value;
}

// The variables that name each launcher's rank, size and local rank.
// (srun states its ranks per node only under --ntasks-per-node; it binds each to its own cores.)
struct LauncherVariables {
  Launcher launcher;
  const char *rank, *size, *local_rank, *local_size, *name;
};
constexpr LauncherVariables launchers[] = {
    {Launcher::torchrun, "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "torchrun"},
    {Launcher::slurm, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE", "srun"},
    {Launcher::openmpi, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
     "OMPI_COMM_WORLD_LOCAL_SIZE", "mpirun"},
};

}  // namespace

World detect_world(const Getenv& getenv) {
  World world;
  for (const LauncherVariables& v : launchers) {
    if (!getenv(v.rank)) continue;
    world.launcher = v.launcher;
    world.rank = required_integer(getenv, v.rank, 0, v.name);
    world.size = required_integer(getenv, v.size, 1, v.name);
    world.local_rank = integer(getenv, v.local_rank, 0).value_or(0);
    world.local_size = integer(getenv, v.local_size, 1).value_or(1);
    if (world.rank >= world.size)
      throw Error("distributed: $" + std::string(v.rank) + " is " + std::to_string(world.rank) + " but $" + v.size +
                  " is " + std::to_string(world.size));
    break;
  }
  if (world.size == 1) return world;
  const char* addr = getenv("MASTER_ADDR");
  if (!addr || !*addr)
    throw Error("distributed: $MASTER_ADDR is not set: the " + std::to_string(world.size) +
                " processes need the host of rank 0, which serves the rendezvous store (hint: export MASTER_ADDR "
                "and MASTER_PORT before srun or mpirun; torchrun sets them)");
  world.master_addr = addr;
  std::optional<int> port = integer(getenv, "MASTER_PORT", 1);
  if (!port || *port > 65535)
    throw Error("distributed: $MASTER_PORT is " + std::string(port ? "out of range" : "not set") +
                ": the port of the rendezvous store on $MASTER_ADDR");
  world.master_port = *port;
  const char* agent = getenv("TORCHELASTIC_USE_AGENT_STORE");
  world.agent_store = agent && std::string(agent) == "True";
  world.restart_count = integer(getenv, "TORCHELASTIC_RESTART_COUNT", 0).value_or(0);
  return world;
}

World detect_world() {
  return detect_world([](const char* name) { return std::getenv(name); });
}

std::string describe(const World& world) {
  if (world.size == 1 && world.launcher == Launcher::none) return "one process";
  const char* names[] = {"no launcher", "torchrun", "srun", "mpirun"};
  return "rank " + std::to_string(world.rank) + " of " + std::to_string(world.size) + " (" +
         names[int(world.launcher)] + ")";
}

}  // namespace codealign::distributed
