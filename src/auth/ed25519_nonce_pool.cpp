#include "auth/ed25519_nonce_pool.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstddef>

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "core/mutex_lock.hpp"

namespace countersign {
namespace {

// Nonces made between two visits to the mutex: few enough that a Take() never waits long for
// the lock, many enough that the filling thread does not take it for every nonce.
constexpr size_t kBatch = 32;

void Wipe(std::vector<Ed25519NoncePool::Nonce>& nonces) {
  if (!nonces.empty()) sodium_memzero(nonces.data(), nonces.size() * sizeof nonces[0]);
}

}  // namespace

Ed25519NoncePool::Ed25519NoncePool(size_t capacity) : capacity_(capacity) {
  // Make() draws from libsodium's random generator; initialising twice is harmless.
  if (sodium_init() < 0) spdlog::error("receipt nonce pool: libsodium could not initialise");
  MutexLock lock(mu_);
  nonces_.reserve(capacity_);
}

Ed25519NoncePool::~Ed25519NoncePool() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  stop_.store(true, std::memory_order_relaxed);
  wanted_.notify_all();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(mu_);
  Wipe(nonces_);
}

void Ed25519NoncePool::Make(Nonce& nonce) {
  // crypto_core_ed25519_scalar_random never gives zero; the base multiplication refuses only
  // a zero scalar, so the loop is a guard, not a retry that happens.
  do {
    crypto_core_ed25519_scalar_random(nonce.r.data());
  } while (crypto_scalarmult_ed25519_base_noclamp(nonce.R.data(), nonce.r.data()) != 0);
}

void Ed25519NoncePool::Start() {
  thread_ = std::thread([this] { Run(); });
}

bool Ed25519NoncePool::Take(Nonce* out) {
  bool found = false;
  bool wake = false;
  {
    MutexLock lock(mu_);
    if (!nonces_.empty()) {
      Nonce& last = nonces_.back();
      *out = last;
      sodium_memzero(&last, sizeof last);
      nonces_.pop_back();
      found = true;
    }
    // One wake-up per refill, not one per Take() below half.
    if (!filling_ && nonces_.size() < capacity_ / 2) {
      filling_ = true;
      wake = true;
    }
  }
  if (wake) wanted_.notify_one();
  (found ? taken_ : missed_).fetch_add(1, std::memory_order_relaxed);
  return found;
}

void Ed25519NoncePool::Fill(size_t count) {
  std::vector<Nonce> made;
  made.reserve(kBatch);
  while (count > 0 && !stop_.load(std::memory_order_relaxed)) {
    const size_t batch = std::min(count, kBatch);
    while (made.size() < batch && !stop_.load(std::memory_order_relaxed)) {
      made.emplace_back();
      Make(made.back());
    }
    size_t room = 0;
    {
      MutexLock lock(mu_);
      const size_t kept = std::min(capacity_ - nonces_.size(), made.size());
      nonces_.insert(nonces_.end(), made.begin(), made.begin() + static_cast<ptrdiff_t>(kept));
      room = capacity_ - nonces_.size();
    }
    Wipe(made);
    made.clear();
    count = room == 0 ? 0 : count - batch;
  }
}

size_t Ed25519NoncePool::size() const {
  MutexLock lock(mu_);
  return nonces_.size();
}

void Ed25519NoncePool::Run() {
  // Idle priority: the nonces only help when they use a core that has nothing else to do.
  sched_param param{};
  if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) != 0) {
    spdlog::debug("receipt nonce pool: cannot run at idle priority; running at normal priority");
  }
  MutexLock lock(mu_);
  filling_ = true;
  while (!stopping_) {
    if (!filling_) {
      lock.Wait(wanted_);
      continue;
    }
    const size_t missing = capacity_ - nonces_.size();
    if (missing == 0) {
      filling_ = false;
      continue;
    }
    lock.Unlock();
    Fill(missing);
    lock.Lock();
  }
}

}  // namespace countersign
