#include "common/rng.h"

#include <cmath>

namespace augur {
namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

inline void Round(std::array<uint32_t, 4>& c, const std::array<uint32_t, 2>& k) {
  uint64_t p0 = static_cast<uint64_t>(kM0) * c[0];
  uint64_t p1 = static_cast<uint64_t>(kM1) * c[2];
  uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
  uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
  c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
}

inline std::array<uint32_t, 2> Key(uint64_t seed) {
  return {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
}

}  // namespace

std::array<uint32_t, 4> Philox4x32(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key) {
  for (int i = 0; i < 10; ++i) {
    Round(counter, key);
    key[0] += kW0;
    key[1] += kW1;
  }
  return counter;
}

void InitRow(uint64_t seed, uint32_t table, uint64_t row, int dim, float lo, float hi,
             float* out) {
  const float span = hi - lo;
  for (int j = 0; j < dim; j += 4) {
    // Counter: (row low, row high, table, block of 4 elements).
    auto bits = Philox4x32({static_cast<uint32_t>(row), static_cast<uint32_t>(row >> 32), table,
                            static_cast<uint32_t>(j / 4)},
                           Key(seed));
    for (int k = 0; k < 4 && j + k < dim; ++k) out[j + k] = lo + span * UnitFloat(bits[k]);
  }
}

uint32_t PhiloxStream::Bits(uint64_t index) const {
  // Counter: (block, block high, stream low, stream high); 4 values per block.
  uint64_t block = index >> 2;
  auto bits = Philox4x32({static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                          static_cast<uint32_t>(stream_), static_cast<uint32_t>(stream_ >> 32)},
                         Key(seed_ ^ 0x5bd1e995a5a5a5a5ull));
  return bits[index & 3];
}

float PhiloxStream::Uniform(uint64_t index) const { return UnitFloat(Bits(index)); }

float PhiloxStream::Normal(uint64_t index) const {
  float u1 = UnitFloat(Bits(2 * index)) + 0x1.0p-25f;  // avoid log(0)
  float u2 = UnitFloat(Bits(2 * index + 1));
  return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.28318530718f * u2);
}

}  // namespace augur
