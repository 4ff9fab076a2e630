#include "notify/outbound_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include <gtest/gtest.h>

namespace countersign {
namespace {

OutboundPolicy Policy(std::vector<std::string> allow = {}, bool allow_http = false) {
  auto made = OutboundPolicy::Make({std::move(allow), allow_http}, "outbound.allow");
  EXPECT_TRUE(made.ok()) << made.error().message;
  return made.ok() ? std::move(made).value() : OutboundPolicy();
}

sockaddr_in V4(const char* text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, text, &a.sin_addr);
  return a;
}

sockaddr_in6 V6(const char* text) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  inet_pton(AF_INET6, text, &a.sin6_addr);
  return a;
}

Status Connect(const OutboundPolicy& p, std::string_view host, const char* address) {
  if (std::strchr(address, ':') != nullptr) {
    sockaddr_in6 a = V6(address);
    return p.CheckAddress(host, reinterpret_cast<const sockaddr*>(&a));
  }
  sockaddr_in a = V4(address);
  return p.CheckAddress(host, reinterpret_cast<const sockaddr*>(&a));
}

TEST(OutboundPolicyTest, LiteralAddressesAreReadTheWayResolversReadThem) {
  const auto loopback = OutboundPolicy::LiteralAddress("127.0.0.1");
  ASSERT_TRUE(loopback);
  for (const char* form : {"2130706433", "0x7f000001", "017700000001", "127.1", "0x7f.0.0.1"}) {
    EXPECT_EQ(OutboundPolicy::LiteralAddress(form), loopback) << form;
  }
  EXPECT_FALSE(OutboundPolicy::LiteralAddress("hooks.example.com"));
  EXPECT_TRUE(OutboundPolicy::LiteralAddress("::1"));
}

TEST(OutboundPolicyTest, EveryInternalRangeIsDeniedInEveryForm) {
  for (const char* internal : {"0.0.0.0",
                               "0.1.2.3",
                               "10.0.0.1",
                               "100.64.0.1",
                               "127.0.0.1",
                               "127.255.0.9",
                               "169.254.169.254",
                               "172.16.0.1",
                               "172.31.255.255",
                               "192.168.0.1",
                               "192.0.0.8",
                               "198.18.0.1",
                               "224.0.0.251",
                               "239.255.255.250",
                               "240.0.0.1",
                               "255.255.255.255",
                               "::",
                               "::1",
                               "fc00::1",
                               "fd12::1",
                               "fe80::1",
                               "febf::1",
                               "fec0::1",
                               "ff02::1",
                               "::ffff:127.0.0.1",
                               "::ffff:169.254.169.254",
                               "::127.0.0.1",
                               "::10.0.0.1",
                               "64:ff9b::a9fe:a9fe",
                               "2002:a00:1::"}) {
    auto address = OutboundPolicy::LiteralAddress(internal);
    ASSERT_TRUE(address) << internal;
    EXPECT_NE(OutboundPolicy::DeniedRange(*address), nullptr) << internal;
  }
  for (const char* external : {"1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "192.169.0.1",
                               "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"}) {
    auto address = OutboundPolicy::LiteralAddress(external);
    ASSERT_TRUE(address) << external;
    EXPECT_EQ(OutboundPolicy::DeniedRange(*address), nullptr) << external;
  }
}

TEST(OutboundPolicyTest, TheDefaultRefusesHttpUserInfoAndInternalHostsInTheUrl) {
  const OutboundPolicy p;
  EXPECT_TRUE(p.CheckUrl("callback_url", "https://hooks.example.com/cb").ok());
  for (const char* url :
       {"http://hooks.example.com/cb", "ftp://hooks.example.com/", "hooks.example.com/cb",
        "https://user:pw@hooks.example.com/", "https://user@hooks.example.com/",
        "https://127.0.0.1/", "https://2130706433/", "https://0x7f.1/", "https://0.0.0.0/",
        "https://[::1]:8443/", "https://[::ffff:7f00:1]/", "https://169.254.169.254/latest",
        "https://LOCALHOST/", "https://x.localhost./", "https://metadata.google.internal/"}) {
    auto checked = p.CheckUrl("callback_url", url);
    ASSERT_FALSE(checked.ok()) << url;
    EXPECT_EQ(checked.error().code, ErrorCode::kInvalid) << url;
    EXPECT_NE(checked.error().message.find("callback_url"), std::string::npos) << url;
  }
}

TEST(OutboundPolicyTest, TheAllowListNamesHostsAndCidrsAndThenAllowsHttpToThem) {
  const OutboundPolicy p = Policy({"127.0.0.1/32", "Hooks.Internal", "10.1.0.0/16", "::1"});
  EXPECT_TRUE(p.CheckUrl("url", "http://127.0.0.1:9/cb").ok());
  EXPECT_TRUE(p.CheckUrl("url", "http://hooks.internal/cb").ok());
  EXPECT_TRUE(p.CheckUrl("url", "https://10.1.2.3/cb").ok());
  EXPECT_TRUE(p.CheckUrl("url", "http://[::1]:9/").ok());
  EXPECT_FALSE(p.CheckUrl("url", "https://127.0.0.2/").ok());
  EXPECT_FALSE(p.CheckUrl("url", "https://10.2.0.1/").ok());
  EXPECT_FALSE(p.CheckUrl("url", "http://hooks.example.com/").ok());
  EXPECT_TRUE(Policy({}, true).CheckUrl("url", "http://hooks.example.com/").ok());
  EXPECT_FALSE(Policy({}, true).CheckUrl("url", "http://127.0.0.1/").ok());
}

TEST(OutboundPolicyTest, TheAddressConnectedToIsCheckedWhateverTheNameWas) {
  const OutboundPolicy p = Policy({"127.0.0.1/32", "hooks.internal"});
  EXPECT_TRUE(Connect(p, "hooks.example.com", "93.184.216.34").ok());
  auto rebound = Connect(p, "hooks.example.com", "169.254.169.254");
  ASSERT_FALSE(rebound.ok());
  EXPECT_NE(rebound.error().message.find("link-local"), std::string::npos);
  EXPECT_FALSE(Connect(p, "hooks.example.com", "10.0.0.1").ok());
  EXPECT_FALSE(Connect(p, "hooks.example.com", "::ffff:10.0.0.1").ok());
  EXPECT_FALSE(Connect(p, "hooks.example.com", "::1").ok());
  EXPECT_TRUE(Connect(p, "hooks.example.com", "127.0.0.1").ok());         // by CIDR
  EXPECT_TRUE(Connect(p, "hooks.example.com", "::ffff:127.0.0.1").ok());  // the same, mapped
  EXPECT_TRUE(Connect(p, "hooks.internal", "10.9.9.9").ok());             // by name
}

TEST(OutboundPolicyTest, ABadAllowListEntryIsAConfigErrorNamingIt) {
  for (const char* bad : {"10.0.0.0/33", "::/129", "host name", "hooks.example.com/8", "1.2.3.4/x",
                          "http://hooks.example.com"}) {
    auto made = OutboundPolicy::Make({{bad}, false}, "countersign.toml:3: outbound.allow");
    ASSERT_FALSE(made.ok()) << bad;
    EXPECT_NE(made.error().message.find("outbound.allow"), std::string::npos);
    EXPECT_NE(made.error().message.find(bad), std::string::npos);
  }
}

}  // namespace
}  // namespace countersign
