// WaiterHub: who is waiting on which request, and waking them the moment it resolves.
//
// A waiter is a callback registered under a request id. Notify() removes every waiter of
// that request and calls each once with the resolved request, after releasing the hub's lock
// (a waker typically posts to its connection's executor and returns). CloseAll() wakes every
// waiter with nullptr: the server is shutting down, answer with whatever the store says.
// Thread-safe. The model is the shared_state of Beast's chat-multi example.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/mutex.hpp"
#include "core/request.hpp"

namespace countersign {

class WaiterHub {
 public:
  using Wake = std::function<void(std::shared_ptr<const Request>)>;

  // Registers `wake`; returns a ticket for Remove(). After CloseAll(), wakes at once.
  uint64_t Add(const std::string& request_id, Wake wake);
  // Forgets a waiter that stopped waiting (timed out, disconnected). No-op when already woken.
  void Remove(const std::string& request_id, uint64_t ticket);
  void Notify(const std::shared_ptr<const Request>& request);
  // Whether anyone waits on `request_id` now.
  bool Waiting(const std::string& request_id) const;
  void CloseAll();

  size_t size() const;

 private:
  struct Waiter {
    uint64_t ticket;
    Wake wake;
  };

  mutable Mutex mu_;
  std::unordered_map<std::string, std::vector<Waiter>> waiters_ CS_GUARDED_BY(mu_);
  uint64_t next_ticket_ CS_GUARDED_BY(mu_) = 1;
  size_t count_ CS_GUARDED_BY(mu_) = 0;
  bool closed_ CS_GUARDED_BY(mu_) = false;
};

}  // namespace countersign
