// connection_guard on real loopback sockets, with the clock passed in: no sleeping.
#include "connection_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace ptjs {
namespace {

using namespace std::chrono_literals;

// A listener on a free loopback port, and connections to it accepted on the server side.
class loopback {
 public:
  loopback() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::listen(listener_, 8), 0);
    EXPECT_EQ(::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    addr_ = addr;
    port = ntohs(addr.sin_port);
  }
  ~loopback() { ::close(listener_); }

  struct connection {
    int client = -1;
    int server = -1;
    std::string peer;  // the client's end, as the guard names it
  };

  connection connect() {
    connection c;
    c.client = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(::connect(c.client, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_), 0);
    c.server = ::accept(listener_, nullptr, nullptr);
    EXPECT_GE(c.server, 0);
    sockaddr_in local{};
    socklen_t len = sizeof local;
    ::getsockname(c.client, reinterpret_cast<sockaddr*>(&local), &len);
    c.peer = "127.0.0.1:" + std::to_string(ntohs(local.sin_port));
    timeval tv{5, 0};
    ::setsockopt(c.client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return c;
  }

  int port = 0;

 private:
  int listener_ = -1;
  sockaddr_in addr_{};
};

// Everything the client receives until the server's end closes (or 5 s pass).
std::string read_to_end(int fd) {
  std::string out;
  char buffer[512];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) out.append(buffer, static_cast<size_t>(n));
  return out;
}

void close_both(const loopback::connection& c) {
  ::close(c.client);
  ::close(c.server);
}

// An hour: the guard's own 250 ms passes never reach it in a test.
constexpr auto kTimeout = std::chrono::milliseconds(3600 * 1000);

TEST(ConnectionGuard, AnswersA408AndClosesAConnectionWhoseRequestIsLate) {
  loopback net;
  connection_guard guard(net.port, {kTimeout, 0}, false);
  auto c = net.connect();
  const auto now = connection_guard::clock::now();
  guard.check(now);
  guard.check(now + kTimeout - 1s);
  EXPECT_EQ(guard.closed(), 0u);
  guard.check(now + kTimeout + 1s);
  EXPECT_EQ(guard.closed(), 1u);
  const std::string got = read_to_end(c.client);
  EXPECT_EQ(got.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("\"error\":\"request not received in full within 3600000 ms"), std::string::npos) << got;
  guard.check(now + 2 * kTimeout);
  EXPECT_EQ(guard.closed(), 1u) << "closed twice";
  close_both(c);
}

TEST(ConnectionGuard, LeavesABusyConnectionAloneAndRearmsAfterTheResponse) {
  loopback net;
  connection_guard guard(net.port, {kTimeout, 0}, false);
  auto c = net.connect();
  guard.check(connection_guard::clock::now());
  guard.request_read(c.peer);
  guard.check(connection_guard::clock::now() + 3 * kTimeout);
  EXPECT_EQ(guard.closed(), 0u) << "a request being handled has no deadline";
  guard.response_sent(c.peer, false);
  const auto sent = connection_guard::clock::now();
  guard.check(sent + kTimeout - 1s);
  EXPECT_EQ(guard.closed(), 0u) << "the next request's clock starts at the response";
  guard.check(sent + kTimeout + 1s);
  EXPECT_EQ(guard.closed(), 1u);
  close_both(c);
}

TEST(ConnectionGuard, TouchesOnlyTheServersOwnConnections) {
  loopback net;
  loopback other;
  connection_guard guard(net.port, {kTimeout, 0}, false);
  auto mine = net.connect();
  auto theirs = other.connect();
  const auto now = connection_guard::clock::now();
  guard.check(now);
  guard.check(now + kTimeout + 1s);
  EXPECT_EQ(guard.closed(), 1u);
  // The other listener's connection still works both ways.
  ASSERT_EQ(::send(theirs.client, "x", 1, MSG_NOSIGNAL), 1);
  char byte = 0;
  ASSERT_EQ(::recv(theirs.server, &byte, 1, 0), 1);
  EXPECT_EQ(byte, 'x');
  close_both(mine);
  close_both(theirs);
}

TEST(ConnectionGuard, WritesNoPlainTextOnATlsConnection) {
  loopback net;
  connection_guard guard(net.port, {kTimeout, 0}, true);
  auto c = net.connect();
  const auto now = connection_guard::clock::now();
  guard.check(now);
  guard.check(now + kTimeout + 1s);
  EXPECT_EQ(guard.closed(), 1u);
  EXPECT_EQ(read_to_end(c.client), "");
  close_both(c);
}

TEST(ConnectionGuard, ClosesAfterAResponseThatSaidConnectionClose) {
  loopback net;
  connection_guard guard(net.port, {}, false);  // no limits
  auto c = net.connect();
  auto d = net.connect();
  const auto now = connection_guard::clock::now();
  guard.check(now);
  guard.check(now + 10 * kTimeout);
  EXPECT_EQ(guard.closed(), 0u) << "timeout 0 is no deadline";
  guard.response_sent(c.peer, true);  // known to the guard: shut at once
  EXPECT_EQ(read_to_end(c.client), "");
  guard.response_sent(d.peer, false);
  ASSERT_EQ(::send(d.client, "x", 1, MSG_NOSIGNAL), 1);
  char byte = 0;
  EXPECT_EQ(::recv(d.server, &byte, 1, 0), 1) << "only the connection that asked is closed";
  EXPECT_EQ(guard.closed(), 0u) << "not counted as slow";
  close_both(c);
  close_both(d);
}

// The client sends `n` bytes; the server reads `read` of them (all by default), as httplib would.
void send_bytes(const loopback::connection& c, size_t n, size_t read = SIZE_MAX) {
  const std::string data(n, 'h');
  ASSERT_EQ(::send(c.client, data.data(), n, MSG_NOSIGNAL), static_cast<ssize_t>(n));
  std::string buffer(n, '\0');
  size_t got = 0;
  const size_t want = std::min(n, read);
  while (got < want) {
    const ssize_t r = ::recv(c.server, buffer.data(), want - got, 0);
    ASSERT_GT(r, 0);
    got += static_cast<size_t>(r);
  }
  if (want == n) return;
  // Wait until the rest has arrived, unread.
  for (int i = 0; i < 100; ++i) {
    int waiting = 0;
    ::ioctl(c.server, FIONREAD, &waiting);
    if (static_cast<size_t>(waiting) == n - want) break;
    ::usleep(1000);
  }
}

// Sends `n` more bytes (all read), runs a pass now, and returns how many connections the guard
// has closed so far.
size_t closed_after_sending(connection_guard& guard, const loopback::connection& c, size_t n) {
  send_bytes(c, n);
  guard.check(connection_guard::clock::now());
  return guard.closed();
}

TEST(ConnectionGuard, Answers431WhenTheHeadRunsPastTheLimitBeforeItEnds) {
  loopback net;
  connection_guard guard(net.port, {std::chrono::milliseconds(0), 100}, false);
  auto c = net.connect();
  send_bytes(c, 5000, 100);
  guard.check(connection_guard::clock::now());
  EXPECT_EQ(guard.closed(), 0u) << "at the limit; what is not read yet does not count";
  EXPECT_EQ(closed_after_sending(guard, c, 1), 1u);
  const std::string got = read_to_end(c.client);
  EXPECT_EQ(got.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u) << got;
  close_both(c);
}

TEST(ConnectionGuard, CountsHeadBytesOnlyUntilTheHeadersEndAndAgainAfterTheResponse) {
  loopback net;
  connection_guard guard(net.port, {std::chrono::milliseconds(0), 100}, false);
  auto c = net.connect();
  guard.check(connection_guard::clock::now());
  send_bytes(c, 80);
  guard.headers_read(c.peer);
  EXPECT_EQ(closed_after_sending(guard, c, 500), 0u) << "body bytes are not head bytes";
  guard.request_read(c.peer);
  guard.response_sent(c.peer, false);
  // The next request's head, counted from the response.
  EXPECT_EQ(closed_after_sending(guard, c, 90), 0u);
  EXPECT_EQ(closed_after_sending(guard, c, 20), 1u);
  close_both(c);
}

TEST(ConnectionGuard, AReportBeforeAnyPassStartsTheClockThen) {
  loopback net;
  connection_guard guard(net.port, {kTimeout, 0}, false);
  auto c = net.connect();
  guard.headers_read(c.peer);  // the transport can be quicker than the first pass
  const auto now = connection_guard::clock::now();
  guard.check(now);
  guard.check(now + kTimeout - 1s);
  EXPECT_EQ(guard.closed(), 0u);
  guard.check(now + kTimeout + 1s);
  EXPECT_EQ(guard.closed(), 1u);
  close_both(c);
}

TEST(ConnectionGuard, ARequestAnsweredBeforeAnyPassDoesNotCountTowardsTheNextHead) {
  loopback net;
  connection_guard guard(net.port, {std::chrono::milliseconds(0), 100}, false);
  auto c = net.connect();
  send_bytes(c, 5000);  // a whole first request with its body, read, answered...
  guard.headers_read(c.peer);
  guard.request_read(c.peer);
  guard.response_sent(c.peer, false);  // ...all before the guard's first pass
  guard.check(connection_guard::clock::now());
  EXPECT_EQ(guard.closed(), 0u);
  EXPECT_EQ(closed_after_sending(guard, c, 100), 0u);
  EXPECT_EQ(closed_after_sending(guard, c, 1), 1u);
  close_both(c);
}

TEST(ConnectionGuard, LetsGoOfConnectionsThatAreGone) {
  loopback net;
  connection_guard guard(net.port, {kTimeout, 0}, false);
  auto c = net.connect();
  const auto now = connection_guard::clock::now();
  guard.check(now);
  close_both(c);
  guard.check(now + kTimeout + 1s);
  EXPECT_EQ(guard.closed(), 0u);
}

}  // namespace
}  // namespace ptjs
