// Compiles the precompiled <torch/torch.h> (src/CMakeLists.txt) that torch-using targets reuse.
