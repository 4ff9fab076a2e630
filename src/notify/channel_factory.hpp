// MakeChannel: builds the Channel a [[channel]] table describes, by its type ("slack",
// "teams", "telegram", "discord", "email", "webhook"). Unknown types and invalid settings are
// errors naming the table. `links` and `clock` must outlive the channel.
#pragma once

#include <memory>

#include "core/clock.hpp"
#include "notify/channel.hpp"
#include "notify/channel_settings.hpp"
#include "notify/link_builder.hpp"

namespace countersign {

Result<std::unique_ptr<Channel>> MakeChannel(ChannelSettings settings, const LinkBuilder& links,
                                             const Clock& clock);

}  // namespace countersign
