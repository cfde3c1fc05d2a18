#include "common/rng.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace augur;

TEST_CASE("Philox4x32-10 matches the published known-answer vectors") {
  // Random123 kat_vectors: philox4x32_10, counter 0 / key 0, and all-ones.
  auto z = Philox4x32({0, 0, 0, 0}, {0, 0});
  CHECK(z == std::array<uint32_t, 4>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  auto f = Philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                      {0xffffffffu, 0xffffffffu});
  CHECK(f == std::array<uint32_t, 4>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
}

TEST_CASE("InitRow is a pure function of seed, table and row") {
  std::vector<float> a(37), b(37), c(37), d(37);
  InitRow(42, 3, 1234567890123ull, 37, -0.1f, 0.1f, a.data());
  InitRow(42, 3, 1234567890123ull, 37, -0.1f, 0.1f, b.data());
  InitRow(42, 3, 1234567890124ull, 37, -0.1f, 0.1f, c.data());
  InitRow(43, 3, 1234567890123ull, 37, -0.1f, 0.1f, d.data());
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a != d);
  for (float v : a) {
    CHECK(v >= -0.1f);
    CHECK(v < 0.1f);
  }
}

TEST_CASE("InitRow values are spread uniformly over the range") {
  double sum = 0;
  int n = 0;
  std::vector<float> r(16);
  for (uint64_t row = 0; row < 4000; ++row) {
    InitRow(7, 0, row, 16, 0.0f, 1.0f, r.data());
    for (float v : r) sum += v, ++n;
  }
  CHECK(sum / n == Approx(0.5).margin(0.01));
}

TEST_CASE("PhiloxStream gives a deterministic stream with unit moments") {
  PhiloxStream s(1, 2), t(1, 2), u(1, 3);
  CHECK(s.Bits(5) == t.Bits(5));
  CHECK(s.Bits(5) != u.Bits(5));
  double m = 0, m2 = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double x = s.Normal(i);
    m += x, m2 += x * x;
  }
  CHECK(m / n == Approx(0.0).margin(0.03));
  CHECK(m2 / n == Approx(1.0).margin(0.05));
}
