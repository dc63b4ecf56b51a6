// Which process a run is, from each launcher's variables (distributed/world.h), and the errors
// that name the variable at fault.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "common/error.h"
#include "distributed/world.h"

namespace codealign::distributed {
namespace {

World detect(const std::map<std::string, std::string>& variables) {
  return detect_world([&](const char* name) -> const char* {
    auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  });
}

std::string error_of(const std::map<std::string, std::string>& variables) {
  try {
    detect(variables);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(World, WithoutALauncherIsOneProcess) {
  World world = detect({});
  EXPECT_EQ(world.launcher, Launcher::none);
  EXPECT_EQ(world.rank, 0);
  EXPECT_EQ(world.size, 1);
  EXPECT_EQ(describe(world), "one process");
}

TEST(World, TorchrunWithItsAgentStore) {
  World world = detect({{"RANK", "3"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "4"}, {"MASTER_ADDR", "node0"},
                        {"MASTER_PORT", "29500"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                        {"TORCHELASTIC_RESTART_COUNT", "2"}});
  EXPECT_EQ(world.launcher, Launcher::torchrun);
  EXPECT_EQ(world.rank, 3);
  EXPECT_EQ(world.size, 8);
  EXPECT_EQ(world.local_rank, 1);
  EXPECT_EQ(world.local_size, 4);
  EXPECT_EQ(world.master_addr, "node0");
  EXPECT_EQ(world.master_port, 29500);
  EXPECT_TRUE(world.agent_store);
  EXPECT_EQ(world.restart_count, 2);
  EXPECT_EQ(describe(world), "rank 3 of 8 (torchrun)");
}

TEST(World, SlurmAndOpenMpiNameTheSameFacts) {
  World slurm = detect({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "16"}, {"SLURM_LOCALID", "5"}, {"MASTER_ADDR", "a"},
                        {"MASTER_PORT", "1234"}});
  EXPECT_EQ(slurm.launcher, Launcher::slurm);
  EXPECT_EQ(slurm.rank, 5);
  EXPECT_EQ(slurm.size, 16);
  EXPECT_EQ(slurm.local_size, 1);  // srun without --ntasks-per-node does not say
  EXPECT_FALSE(slurm.agent_store);
  World mpi = detect({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"},
                      {"OMPI_COMM_WORLD_LOCAL_RANK", "0"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}, {"MASTER_ADDR", "b"},
                      {"MASTER_PORT", "80"}});
  EXPECT_EQ(mpi.launcher, Launcher::openmpi);
  EXPECT_EQ(mpi.rank, 1);
  EXPECT_EQ(mpi.local_rank, 0);
  EXPECT_EQ(mpi.local_size, 2);
  EXPECT_EQ(describe(mpi), "rank 1 of 2 (mpirun)");
}

TEST(World, ErrorsNameTheVariable) {
  EXPECT_NE(error_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}}).find("$RANK is 'x'"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}}).find("$WORLD_SIZE is not set"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}}).find("$RANK is 2 but $WORLD_SIZE is 2"),
            std::string::npos);
  EXPECT_NE(error_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}}).find("$MASTER_ADDR is not set"),
            std::string::npos);
  EXPECT_NE(error_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
                .find("$MASTER_PORT is out of range"),
            std::string::npos);
  // One process needs no rendezvous: srun -n 1 without MASTER_ADDR runs.
  EXPECT_EQ(error_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}), "no error");
}

TEST(World, EachRankTakesAnEqualContiguousSliceAndTogetherTheyTakeAll) {
  for (int size : {1, 2, 3, 8})
    for (size_t count : {0u, 1u, 5u, 11u, 16u}) {
      size_t next = 0;
      for (int rank = 0; rank < size; ++rank) {
        World world;
        world.rank = rank, world.size = size;
        World::Slice slice = world.slice_of(count);
        EXPECT_EQ(slice.first, next) << count << " items, rank " << rank << " of " << size;
        EXPECT_LE(slice.last - slice.first, slice.size);
        EXPECT_EQ(slice.size, (count + size_t(size) - 1) / size_t(size));
        next = slice.last;
      }
      EXPECT_EQ(next, count) << count << " items over " << size << " ranks";
    }
}

}  // namespace
}  // namespace codealign::distributed
