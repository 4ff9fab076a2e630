// MakeChannel: builds the Channel a [[channel]] table describes, by its type ("slack",
// "teams", "telegram", "discord", "email", "webhook"). Unknown types and invalid settings are
// errors naming the table.
#pragma once

#include <memory>

#include "notify/channel.hpp"
#include "notify/channel_settings.hpp"
#include "notify/link_builder.hpp"

namespace countersign {

Result<std::unique_ptr<Channel>> MakeChannel(ChannelSettings settings, const LinkBuilder& links);

}  // namespace countersign
