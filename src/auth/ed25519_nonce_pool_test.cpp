#include "auth/ed25519_nonce_pool.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <sodium.h>

namespace countersign {
namespace {

using Bytes = std::array<unsigned char, 32>;

// Waits for `condition`, which a thread of the pool makes true, for at most 30 s of the
// machine's time (a guard against a hang, not a wait for time to pass).
bool Eventually(const std::function<bool()>& condition) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

// True when `r` is a scalar already reduced mod L (reducing it again changes nothing).
bool IsReduced(const Bytes& r) {
  unsigned char wide[crypto_core_ed25519_NONREDUCEDSCALARBYTES] = {};
  std::memcpy(wide, r.data(), r.size());
  Bytes reduced;
  crypto_core_ed25519_scalar_reduce(reduced.data(), wide);
  return reduced == r;
}

TEST(Ed25519NoncePoolTest, EachNonceIsAFreshScalarWithItsPointAndIsHandedOutOnce) {
  Ed25519NoncePool pool(64);
  pool.Fill(64);
  ASSERT_EQ(pool.size(), 64u);
  std::set<Bytes> scalars;
  std::set<Bytes> points;
  const Bytes zero{};
  for (int i = 0; i < 64; ++i) {
    Ed25519NoncePool::Nonce nonce;
    ASSERT_TRUE(pool.Take(&nonce)) << i;
    EXPECT_NE(nonce.r, zero);
    EXPECT_TRUE(IsReduced(nonce.r));
    Bytes point;
    ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(point.data(), nonce.r.data()), 0);
    EXPECT_EQ(nonce.R, point) << "R is not r·B for nonce " << i;
    scalars.insert(nonce.r);
    points.insert(nonce.R);
  }
  EXPECT_EQ(scalars.size(), 64u);
  EXPECT_EQ(points.size(), 64u);
  EXPECT_EQ(pool.size(), 0u);
  Ed25519NoncePool::Nonce none{};
  EXPECT_FALSE(pool.Take(&none));
  EXPECT_EQ(none.r, zero) << "an empty pool wrote a nonce";
  EXPECT_EQ(pool.taken(), 64u);
  EXPECT_EQ(pool.missed(), 1u);
}

TEST(Ed25519NoncePoolTest, FillStopsAtTheCapacity) {
  Ed25519NoncePool pool(40);
  pool.Fill(100);
  EXPECT_EQ(pool.size(), 40u);
  pool.Fill(5);
  EXPECT_EQ(pool.size(), 40u);
  Ed25519NoncePool::Nonce nonce;
  ASSERT_TRUE(pool.Take(&nonce));
  pool.Fill(5);
  EXPECT_EQ(pool.size(), 40u);
}

TEST(Ed25519NoncePoolTest, TheThreadFillsThePoolAndRefillsItOnceHalfIsTaken) {
  Ed25519NoncePool pool(64);
  pool.Start();
  ASSERT_TRUE(Eventually([&] { return pool.size() == 64; })) << pool.size();

  // The takes that leave fewer than half wake the thread, which fills the pool up again.
  Ed25519NoncePool::Nonce nonce;
  for (int i = 0; i < 33; ++i) ASSERT_TRUE(pool.Take(&nonce));
  ASSERT_TRUE(Eventually([&] { return pool.size() == 64; })) << pool.size();

  // Emptied completely, the pool misses until the thread catches up, then hands out again.
  while (pool.Take(&nonce)) {
  }
  EXPECT_GE(pool.missed(), 1u);
  ASSERT_TRUE(Eventually([&] { return pool.Take(&nonce); }));
}

TEST(Ed25519NoncePoolTest, DestroyingAPoolWhileItsThreadFillsReturnsPromptly) {
  // A pool of 65,536 takes its thread over a second to fill; the destructor must stop the
  // thread between two nonces rather than wait for the whole fill (ctest's timeout would
  // catch a destructor that waited for ever).
  auto pool = std::make_unique<Ed25519NoncePool>(1 << 16);
  pool->Start();
  ASSERT_TRUE(Eventually([&] { return pool->size() > 0; }));
  ASSERT_LT(pool->size(), pool->capacity()) << "the thread finished before the test could stop it";
  pool.reset();
}

}  // namespace
}  // namespace countersign
