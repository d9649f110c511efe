// Tests for train/rng: the engine is the standard's mt19937_64 (its required 10000th output), uniforms lie in
// [0, 1), Box–Muller normals have unit moments, and a saved state (also mid-pair) resumes exactly.
#include "train/rng.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "common/errors.hpp"

using specbias::train::Rng;

TEST_CASE("train rng: engine is mt19937_64 (10000th output of the default seed per the C++ standard)", "[fast][train]") {
  Rng rng(5489u);  // std::mt19937_64's default seed
  std::uint64_t x = 0;
  for (int i = 0; i < 10000; ++i) x = rng.next();
  REQUIRE(x == 9981545732273789042ULL);  // [rand.predef]
}

TEST_CASE("train rng: uniforms and normals have the right range and moments", "[fast][train]") {
  Rng rng(1);
  const int n = 100000;
  double su = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    su += u;
    const double z = rng.normal();
    sn += z;
    sn2 += z * z;
  }
  // Standard errors for n = 1e5: uniform mean 0.29/√n ≈ 9e-4, normal mean 3.2e-3, normal variance 4.5e-3.
  REQUIRE(std::abs(su / n - 0.5) < 5e-3);
  REQUIRE(std::abs(sn / n) < 0.016);
  REQUIRE(std::abs(sn2 / n - 1.0) < 0.023);
  for (int i = 0; i < 1000; ++i) REQUIRE(rng.below(7) < 7);
}

TEST_CASE("train rng: state round trip resumes the exact sequence, also between the two normals of a pair", "[fast][train]") {
  Rng a(77);
  a.normal();  // leaves the sine of the pair cached
  const std::string saved = a.state();
  const double n1 = a.normal(), n2 = a.normal();
  const double u = a.uniform();
  Rng b(0);
  b.set_state(saved);
  REQUIRE(b.normal() == n1);
  REQUIRE(b.normal() == n2);
  REQUIRE(b.uniform() == u);
  REQUIRE_THROWS_AS(b.set_state("not a state"), specbias::DataError);
}

TEST_CASE("train rng: fill_normal returns the same sequence and state as repeated normal()", "[fast][train]") {
  for (const std::size_t n : {0u, 1u, 2u, 7u, 20001u}) {
    Rng a(9), b(9);
    a.normal();  // start mid-pair, so the cached deviate path is exercised
    b.normal();
    std::vector<double> fast(n);
    a.fill_normal(fast);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(fast[i] == b.normal());
    REQUIRE(a.state() == b.state());
  }
}
