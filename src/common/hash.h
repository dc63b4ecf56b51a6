// Content hashes (XXH3-128) for de-duplicating jobs and keying caches. Not cryptographic.
#pragma once
#include <xxhash.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace codealign {

// Streams several strings into one hash; each part is length-prefixed so ("ab","c") != ("a","bc").
class ContentHash {
 public:
  ContentHash() { XXH3_128bits_reset(state_); }
  ~ContentHash() { XXH3_freeState(state_); }
  ContentHash(const ContentHash&) = delete;
  ContentHash& operator=(const ContentHash&) = delete;
  ContentHash& add(std::string_view part) {
    unsigned long long size = part.size();
    XXH3_128bits_update(state_, &size, sizeof size);
    XXH3_128bits_update(state_, part.data(), part.size());
    return *this;
  }
  std::string hex() const {
    XXH128_hash_t h = XXH3_128bits_digest(state_);
    char text[33];
    std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return text;
  }

 private:
  XXH3_state_t* state_ = XXH3_createState();
};

}  // namespace codealign
