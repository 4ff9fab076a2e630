#include "notify/channel_set.hpp"

namespace countersign {

void ChannelSet::AddChannel(std::unique_ptr<Channel> channel, std::string tenant) {
  channels_.push_back({std::move(channel), std::move(tenant)});
}

void ChannelSet::AddWebhook(std::unique_ptr<Channel> webhook, std::string tenant) {
  webhooks_.push_back({std::move(webhook), std::move(tenant)});
}

void ChannelSet::SetCallbacks(std::unique_ptr<Channel> callbacks) {
  callbacks_ = std::move(callbacks);
}

const Channel* ChannelSet::Find(std::string_view destination) const {
  if (destination == "callback") return callbacks_.get();
  constexpr std::string_view kWebhook = "webhook:";
  if (destination.substr(0, kWebhook.size()) == kWebhook) {
    const std::string_view name = destination.substr(kWebhook.size());
    for (const auto& e : webhooks_) {
      if (e.channel->name() == name) return e.channel.get();
    }
    return nullptr;
  }
  const Entry* entry = FindChannel(destination);
  return entry ? entry->channel.get() : nullptr;
}

const ChannelSet::Entry* ChannelSet::FindChannel(std::string_view name) const {
  for (const auto& e : channels_) {
    if (e.channel->name() == name) return &e;
  }
  return nullptr;
}

std::vector<const ChannelSet::Entry*> ChannelSet::OfType(std::string_view type) const {
  std::vector<const Entry*> out;
  for (const auto& e : channels_) {
    if (e.channel->type() == type) out.push_back(&e);
  }
  return out;
}

}  // namespace countersign
