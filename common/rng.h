// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11) for deterministic init.
//
// A counter-based generator maps (key, counter) to random bits with no state, so the value of
// element j of row r of table t is a pure function of (seed, t, r, j): every shard, every shard
// count and every worker computes the same initial row without coordination, and a row that was
// never written need never be stored.
#pragma once

#include <array>
#include <cstdint>

namespace augur {

// One Philox4x32-10 block: 128 random bits for a 128-bit counter under a 64-bit key.
std::array<uint32_t, 4> Philox4x32(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

// Maps 32 random bits to a float uniform in [0, 1) with 24 bits of precision.
inline float UnitFloat(uint32_t bits) { return static_cast<float>(bits >> 8) * 0x1.0p-24f; }

// Fills out[0..dim) with the initial value of (table, row) under `seed`: uniform in [lo, hi).
void InitRow(uint64_t seed, uint32_t table, uint64_t row, int dim, float lo, float hi, float* out);

// A deterministic stream for dense-weight init and data generation: element i of stream
// (seed, stream_id) is a pure function of its arguments, so work can be split across threads.
class PhiloxStream {
 public:
  PhiloxStream(uint64_t seed, uint64_t stream_id) : seed_(seed), stream_(stream_id) {}
  // Uniform in [0, 1).
  float Uniform(uint64_t index) const;
  // 32 raw random bits.
  uint32_t Bits(uint64_t index) const;
  // Standard normal by Box-Muller from two uniforms.
  float Normal(uint64_t index) const;

 private:
  uint64_t seed_, stream_;
};

}  // namespace augur
