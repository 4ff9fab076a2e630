// CompatOptions: the config file's [compat.hermes], [compat.molecule] and [compat.aisoc]
// tables, which switch on the adapters that speak the seed systems' wire APIs.
//
// Every adapter is off unless its table says `enabled = true`; a disabled adapter's routes
// answer 404 with an error saying how to enable it. `anonymous = true` lets a call without an
// Authorization header act as the adapter's own agent principal (the seed clients send no
// credentials); a call with a bearer token is authenticated as usual. Deciding always needs
// an approver's token while auth is on.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace countersign {

struct HermesOptions {
  bool enabled = false;
  std::string tenant = "default";
  std::string principal = "hermes";  // the agent an anonymous call acts as
  bool anonymous = true;
  int rate_limit = 10;  // submissions per action per hour; 0: unlimited (--hermes-rate-limit)
};

struct MoleculeOptions {
  bool enabled = false;
  // Workspace id -> tenant. A workspace not listed belongs to default_tenant; an empty
  // default_tenant refuses unlisted workspaces.
  std::map<std::string, std::string> workspaces;
  std::string default_tenant = "default";
  bool anonymous = true;
  std::chrono::seconds replay_window{300};  // decisions a new /ws subscriber still hears
};

struct AisocOptions {
  bool enabled = false;
  std::string tenant = "default";
  std::string principal = "aisoc";
  // Off by default, unlike the other adapters: an anonymous caller names the person to ask
  // and where their vote links are posted, so anyone could otherwise collect a person's links
  // and answer for them. When on, an anonymous call's webhook_url (and timeline_url) must be
  // one of `destinations`, exactly.
  bool anonymous = false;
  std::vector<std::string> destinations;
  std::chrono::seconds timeout{900};  // how long a verification's links stay valid
  // Hosts that webhook_url and timeline_url may name ("*.example.com" matches subdomains):
  // the server POSTs to them, so they are not left open to anything a caller sends.
  std::vector<std::string> allow_hosts = {"hooks.slack.com", "*.webhook.office.com",
                                          "*.logic.azure.com",
                                          "*.environment.api.powerplatform.com"};
  // Where a verification with bot_token + channel calls chat.postMessage (Slack's Web API).
  std::string slack_api_base = "https://slack.com/api";
};

struct CompatOptions {
  HermesOptions hermes;
  MoleculeOptions molecule;
  AisocOptions aisoc;
};

}  // namespace countersign
