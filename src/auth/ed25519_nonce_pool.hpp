// Ed25519NoncePool: Ed25519 signing nonces made ahead of time, so that a signature on a busy
// thread costs one SHA-512 and two scalar operations instead of a fixed-base scalar
// multiplication (1.5 against 17 us on the 2-core machine).
//
// An Ed25519 signature of M is (R, S) with R = r·B and S = r + SHA-512(R ‖ A ‖ M)·a mod L, where
// a is the secret scalar and A = a·B the public key. Verification (RFC 8032 §5.1.7) checks
// S·B = R + SHA-512(R ‖ A ‖ M)·A, which holds for any r. RFC 8032's signing derives r from the
// key and M, so the same message always gets the same signature, but then r·B, most of the
// signature's cost, has to be computed on the signing thread. This pool holds pairs (r, r·B)
// with r uniformly random mod L, made by a thread of its own that runs at idle priority
// (SCHED_IDLE: only on a core that nothing else wants), so the multiplications use idle time.
//
// r is as secret as the key (a signature and its r give a away), and must never sign twice
// (two signatures with one r give a away too): Take() hands each pair out once, and the pool
// wipes every copy it held. When the pool is empty, Take() says so and the caller signs the
// RFC 8032 way; nothing waits for the filling thread. The pool's memory is not locked against
// swapping, like the signing key's.
//
// Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/mutex.hpp"
#include "core/thread_annotations.hpp"

namespace countersign {

class Ed25519NoncePool {
 public:
  struct Nonce {
    std::array<unsigned char, 32> r;  // the secret scalar, reduced mod L, never zero
    std::array<unsigned char, 32> R;  // r·B, encoded as RFC 8032 encodes a point
  };

  // Holds up to `capacity` nonces; the filling thread tops it up when half are taken.
  explicit Ed25519NoncePool(size_t capacity);
  // Stops the filling thread (at most one nonce's work later) and wipes what is left.
  ~Ed25519NoncePool();
  Ed25519NoncePool(const Ed25519NoncePool&) = delete;
  Ed25519NoncePool& operator=(const Ed25519NoncePool&) = delete;

  // Starts the filling thread, which fills the pool at once. Call at most once.
  void Start() CS_EXCLUDES(mu_);

  // Moves one nonce into `out` (removing it from the pool) and returns true; false when the
  // pool is empty. Never blocks on the filling thread's work.
  bool Take(Nonce* out) CS_EXCLUDES(mu_);

  // Makes up to `count` nonces on the calling thread (no more than the pool has room for).
  // What the filling thread runs; also for tests, which need a pool without a thread.
  void Fill(size_t count) CS_EXCLUDES(mu_);

  size_t size() const CS_EXCLUDES(mu_);
  size_t capacity() const { return capacity_; }
  // Take() calls answered with a nonce, and with none (the pool was empty).
  uint64_t taken() const { return taken_.load(std::memory_order_relaxed); }
  uint64_t missed() const { return missed_.load(std::memory_order_relaxed); }

  // Makes a fresh nonce in `nonce` (in place, so no copy of r is left behind): r uniformly
  // random mod L and not zero, R = r·B.
  static void Make(Nonce& nonce);

 private:
  void Run() CS_EXCLUDES(mu_);

  const size_t capacity_;
  mutable Mutex mu_;
  std::vector<Nonce> nonces_ CS_GUARDED_BY(mu_);  // reserved to capacity_ once
  bool stopping_ CS_GUARDED_BY(mu_) = false;
  bool filling_ CS_GUARDED_BY(mu_) = false;  // the thread is making nonces, needs no wake-up
  std::atomic<bool> stop_{false};            // checked between nonces, without the mutex
  std::condition_variable wanted_;           // below half full, or stopping_
  std::atomic<uint64_t> taken_{0};
  std::atomic<uint64_t> missed_{0};
  std::thread thread_;
};

}  // namespace countersign
