// Closes connections whose request does not arrive in time: the slow-client ("slow loris")
// defence httplib 0.11 lacks. Its read timeout applies to each read, so a client that sends a
// byte every few seconds holds an HTTP thread for ever; with as many such clients as threads,
// nobody else is served. No httplib, no libtorch here.
//
// The guard finds the server's connections itself (the sockets of this process whose local port
// is the server's: httplib does not say when it accepts one) and learns from the transport
// when a request has been read in full (busy: no deadline while the handler runs) and when its
// response has gone (the clock starts again for the next request on a kept-alive connection).
// A connection that has not delivered a whole request (headers and body) within the timeout of
// being accepted, or of its previous response, gets a 408 (plain HTTP) and is shut down; one
// that sends more bytes than a request head may have before its headers end gets a 431 (httplib
// would keep reading header lines into memory: it caps their length, not their number).
#pragma once

#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include <sys/types.h>
#include <thread>

namespace ptjs {

class connection_guard {
 public:
  using clock = std::chrono::steady_clock;

  struct limits {
    std::chrono::milliseconds request_timeout{0};  // 0: no deadline
    uint64_t max_head_bytes = 0;                   // request line and headers; 0: no limit
  };

  // `port`: the server's local port; `tls`: no 408/431 is written (it would not be TLS).
  // With no limits the guard only closes connections after "Connection: close".
  connection_guard(int port, limits limits, bool tls);
  ~connection_guard();
  connection_guard(const connection_guard&) = delete;
  connection_guard& operator=(const connection_guard&) = delete;

  // `peer` is "address:port" as getnameinfo(NI_NUMERICHOST) writes the address.
  void headers_read(const std::string& peer);  // the request head is in: no head-size check
  void request_read(const std::string& peer);  // the whole request is in: no deadline
  // The response has gone: the next request's clock starts now, or, with `close` (the
  // response said "Connection: close", which httplib 0.11 does not act on), the connection is
  // shut down now or at the next pass.
  void response_sent(const std::string& peer, bool close);

  // The server is stopping: from now on each pass, the first one at once, shuts down the
  // kept-alive connections that wait for a next request (a response sent, nothing of the next
  // request read or waiting in the socket), as Go's Server.Shutdown closes idle connections.
  // httplib would otherwise keep each one until its keep-alive timeout, and the drain with it.
  // Connections with a request under way are left to finish.
  void drain();

  // Connections closed for being too slow or sending too long a head, since the start.
  size_t closed() const;

  // One pass over this process's sockets; the background thread calls it every 250 ms. Public
  // so that tests can drive it without waiting.
  void check(clock::time_point now);

 private:
  struct connection {
    int fd = -1;
    ino_t inode = 0;   // the socket's, once a pass has found it
    uint64_t born = 0;  // passes_ when the transport reported it first
    clock::time_point armed;  // when the current request's clock started
    uint64_t bytes_at_arm = 0;  // bytes read from the connection by then
    bool head_counted = false;  // bytes_at_arm is known: the head size can be checked
    bool head_read = false;
    bool busy = false;        // request read, handler or response writing in progress
    bool closed = false;
    bool close_asked = false;  // after its response
    bool kept_alive = false;   // a response went, and no head of a next request was read since
    bool seen = false;        // found in the last pass
  };

  connection& entry(const std::string& peer);  // with mu_ held
  void run();
  void refuse(const std::string& peer, connection& c, int status, const std::string& reason, const std::string& message);
  void close_now(connection& c);
  bool waits_for_next_request(const connection& c) const;  // with mu_ held

  const int port_;
  const limits limits_;
  const bool tls_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool draining_ = false;
  size_t closed_ = 0;
  uint64_t passes_ = 0;
  std::map<std::string, connection> connections_;  // by peer
  std::thread thread_;
};

}  // namespace ptjs
