// ChannelSet: the configured channels by name, each with the tenant it serves, and the
// [[webhook]] subscriptions. Built once at start-up, then read-only: thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "notify/channel.hpp"

namespace countersign {

class ChannelSet {
 public:
  struct Entry {
    std::unique_ptr<Channel> channel;
    std::string tenant;  // requests of this tenant only; "" for every tenant (webhooks)
  };

  // A channel a request names in `notify`. Names are unique across channels.
  void AddChannel(std::unique_ptr<Channel> channel, std::string tenant);
  // A subscription that sees every request event of its tenant (every tenant when "").
  void AddWebhook(std::unique_ptr<Channel> webhook, std::string tenant);
  // The channel for callback_url rows (destination "callback").
  void SetCallbacks(std::unique_ptr<Channel> callbacks);

  // A channel, webhook ("webhook:NAME") or the callback channel ("callback") by destination.
  const Channel* Find(std::string_view destination) const;
  // The entry of a channel named in notify lists (not webhooks), or nullptr.
  const Entry* FindChannel(std::string_view name) const;
  const std::vector<Entry>& channels() const { return channels_; }
  const std::vector<Entry>& webhooks() const { return webhooks_; }
  const Channel* callbacks() const { return callbacks_.get(); }
  std::vector<const Entry*> OfType(std::string_view type) const;

 private:
  std::vector<Entry> channels_;
  std::vector<Entry> webhooks_;
  std::unique_ptr<Channel> callbacks_;
};

}  // namespace countersign
