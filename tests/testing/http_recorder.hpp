// HttpRecorder: a real HTTP/1.1 server on 127.0.0.1 (port 0) for tests of outbound calls.
//
// It answers each request with the next scripted reply (or 200 "ok" when the script is
// empty) and records what it received. One connection at a time, one request per
// connection. Thread-safe; the server thread stops in the destructor.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace countersign::testing {

class HttpRecorder {
 public:
  struct Reply {
    int status = 200;
    std::string body = "ok";
    std::map<std::string, std::string> headers;
  };
  struct Received {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
  };

  HttpRecorder();
  ~HttpRecorder();
  HttpRecorder(const HttpRecorder&) = delete;
  HttpRecorder& operator=(const HttpRecorder&) = delete;

  uint16_t port() const { return port_; }
  std::string Url(const std::string& path) const;
  void Script(Reply reply);
  std::vector<Received> received() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace countersign::testing
