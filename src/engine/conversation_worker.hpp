// ConversationWorker: does the work conversations wait for, off the network threads
// (docs/conversations.md).
//
// One thread. It asks the store for the conversations with work due (Conversation::has_work):
// first it shows the chat what changed (posts the alert, rewrites the alert message, sends
// each new message to the subject and mirrors it into the thread), then it does the step
// (greet, judge, close) with the assistant, and commits each result through
// Gateway::ChangeConversation, whose rules apply it only if the conversation still waits for
// it. Every step and delivery is durable: a crash redoes the step after restart (the model is
// asked again; the verdict is recorded once), and redelivers at most the message that was
// being sent. A failed delivery or model call is retried after a backoff on the injected
// clock; a model that keeps failing gives the greeting and the summary from templates and
// hands judging to the analysts.
//
// Thread-safe: Poke() from any thread (the gateway's conversation listener calls it).
#pragma once

#include <condition_variable>
#include <map>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "engine/conversation_assistant.hpp"
#include "engine/gateway.hpp"
#include "engine/template_assistant.hpp"
#include "notify/conversation_chat.hpp"
#include "store/store.hpp"

namespace countersign {

struct ConversationWorkerOptions {
  // Failed attempts at a model step before its fallback (templates, or the analysts).
  int max_step_attempts = 3;
  int batch = 16;  // conversations looked at per pass
};

class ConversationWorker {
 public:
  // `chats` by [[channel]] name; a conversation naming none uses `default_chat`. Everything
  // passed must outlive the worker.
  ConversationWorker(Gateway& gateway, Store& store, Clock& clock,
                     std::map<std::string, ConversationChat*> chats, std::string default_chat,
                     const ConversationAssistant& assistant,
                     ConversationWorkerOptions options = {});
  ~ConversationWorker();
  ConversationWorker(const ConversationWorker&) = delete;
  ConversationWorker& operator=(const ConversationWorker&) = delete;

  void Start();
  // Finishes the conversation in hand and joins the thread. Idempotent.
  void Stop();
  // Something changed: look again now.
  void Poke();
  // One pass over the work due now, on the calling thread (tests); how many it handled.
  int RunOnce();

 private:
  void Loop();
  bool Stopping();
  // Shows the chat what changed, then does the step; false when it must wait (a failure).
  void Handle(const std::string& tenant, const std::string& id);
  bool Deliver(const Request& r, Conversation c, ConversationChat& chat);
  void Step(const Conversation& c);
  // Commits `change` and waits for it; the conversation after it, or nullopt on a failure
  // (logged).
  std::optional<Gateway::ConversationChanged> Commit(const Conversation& c,
                                                     Gateway::ConversationChange change);
  ConversationChat* ChatFor(const Conversation& c) const;

  Gateway& gateway_;
  Store& store_;
  Clock& clock_;
  std::map<std::string, ConversationChat*> chats_;
  std::string default_chat_;
  const ConversationAssistant& assistant_;
  TemplateAssistant templates_;
  ConversationWorkerOptions options_;

  Mutex mu_;
  std::condition_variable cv_;
  bool poked_ CS_GUARDED_BY(mu_) = false;
  bool stopping_ CS_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace countersign
