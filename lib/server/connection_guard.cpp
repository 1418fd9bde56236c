#include "connection_guard.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/tcp.h>  // tcp_info with tcpi_bytes_received (glibc's lacks it)
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "log.h"

namespace ptjs {
namespace {

struct found_socket {
  int fd;
  ino_t inode;  // tells a connection from a later one with the same peer and descriptor
  std::string peer;
};

ino_t inode_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

// A descriptor of the guard's own for the socket that `fd` names now (and, given `inode`, only
// if it is still that socket). Descriptor numbers are reused as soon as a connection closes:
// looking a number up and then acting on it could reach a connection accepted in between, and
// a copy cannot (a shutdown through it reaches the socket it was made from, whatever the
// number names by then). Closing the copy closes the socket only if the server already has.
class socket_ref {
 public:
  explicit socket_ref(int fd, ino_t inode = 0) : fd_(::fcntl(fd, F_DUPFD_CLOEXEC, 0)) {
    if (fd_ >= 0 && inode != 0 && inode_of(fd_) != inode) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~socket_ref() {
    if (fd_ >= 0) ::close(fd_);
  }
  socket_ref(const socket_ref&) = delete;
  socket_ref& operator=(const socket_ref&) = delete;
  int fd() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

int port_of(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
  return -1;
}

// "address:port" of the other end, or empty when `fd` is not a connected TCP socket on `port`.
std::string peer_of(int fd, int port) {
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 || port_of(local) != port) return {};
  sockaddr_storage remote{};
  len = sizeof remote;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &len) != 0) return {};  // the listener
  char host[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&remote), len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0)
    return {};
  return std::string(host) + ":" + std::to_string(port_of(remote));
}

// Bytes the server has read from a TCP connection since it opened: received, less what still
// waits in the socket (0 if unknown). Counting what arrived instead would blame a request's
// head for its body, which can arrive before the head is parsed. The two counts come from two
// calls: data arriving between them would skew the difference, so the waiting count is taken
// on both sides and the pair retried until they agree.
uint64_t bytes_read(int fd) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    tcp_info info{};
    socklen_t len = sizeof info;
    int before = 0, after = 0;
    if (::ioctl(fd, SIOCINQ, &before) != 0 || ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        ::ioctl(fd, SIOCINQ, &after) != 0)
      return 0;
    if (before == after && info.tcpi_bytes_received >= static_cast<uint64_t>(std::max(after, 0)))
      return info.tcpi_bytes_received - static_cast<uint64_t>(std::max(after, 0));
  }
  return 0;
}

// The server's open connections: every socket of this process on the server's local port that
// has a peer. The numbers are listed first, so that the copies made to look at them are not.
std::vector<found_socket> server_connections(int port) {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return {};
  const int own = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0' && fd != own) fds.push_back(static_cast<int>(fd));
  }
  ::closedir(dir);
  std::vector<found_socket> out;
  for (const int fd : fds) {
    const socket_ref ref(fd);  // peer and inode from one socket, even if `fd` is reused meanwhile
    if (!ref) continue;
    std::string peer = peer_of(ref.fd(), port);
    if (!peer.empty()) out.push_back({fd, inode_of(ref.fd()), std::move(peer)});
  }
  return out;
}

// bytes_read() of the socket a pass found, 0 when `fd` no longer names it.
uint64_t bytes_read(int fd, ino_t inode) {
  const socket_ref ref(fd, inode);
  return ref ? bytes_read(ref.fd()) : 0;
}

}  // namespace

connection_guard::connection_guard(int port, limits limits, bool tls)
    : port_(port), limits_(limits), tls_(tls), thread_([this] { run(); }) {}

connection_guard::~connection_guard() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

connection_guard::connection& connection_guard::entry(const std::string& peer) {
  // One the passes have not found yet was accepted moments ago.
  auto [it, added] = connections_.try_emplace(peer);
  if (added) {
    it->second.armed = clock::now();
    it->second.born = passes_;
  }
  return it->second;
}

void connection_guard::headers_read(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  connection& c = entry(peer);
  c.head_read = true;
  c.kept_alive = false;
}

void connection_guard::request_read(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  connection& c = entry(peer);
  c.busy = true;
  c.kept_alive = false;
}

void connection_guard::response_sent(const std::string& peer, bool close) {
  std::lock_guard<std::mutex> lock(mu_);
  connection& c = entry(peer);
  c.busy = false;
  c.head_read = false;
  c.kept_alive = true;
  c.armed = clock::now();
  // The next head is counted from here; unknown until a pass can measure it.
  c.head_counted = false;
  // This runs on the thread serving the connection, which keeps it open: when the number still
  // names a socket with the inode a pass found for this peer, that socket is this connection
  // (two open connections cannot share a peer), so it can be read directly, without a copy.
  if (c.fd >= 0 && inode_of(c.fd) == c.inode) {
    c.bytes_at_arm = bytes_read(c.fd);
    c.head_counted = c.bytes_at_arm > 0;
  }
  if (!close) return;
  c.close_asked = true;
  if (c.fd >= 0) close_now(c);
}

void connection_guard::drain() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;
  }
  wake_.notify_all();  // a pass now, not in up to 250 ms
}

size_t connection_guard::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

void connection_guard::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(250));
    if (stopping_) break;
    lock.unlock();
    check(clock::now());
    lock.lock();
  }
}

void connection_guard::check(clock::time_point now) {
  const std::vector<found_socket> found = server_connections(port_);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [peer, c] : connections_) c.seen = false;
  for (const found_socket& s : found) {
    auto [it, added] = connections_.try_emplace(s.peer);
    connection& c = it->second;
    // A later connection from the same address and port: nothing carries over.
    if (!added && c.inode != 0 && c.inode != s.inode) {
      c = connection{};
      added = true;
    }
    // A connection the transport has not reported on yet was accepted at most one pass ago.
    if (added) {
      c.armed = now;
      c.head_counted = true;  // from 0: everything read so far is this first head
    } else if (!c.head_counted) {
      // Reported on before a pass found it, or not measurable then: what was read so far
      // belongs to earlier requests; the next head starts here at most.
      c.bytes_at_arm = bytes_read(s.fd, s.inode);
      c.head_counted = c.bytes_at_arm > 0;
    }
    c.fd = s.fd;
    c.inode = s.inode;
    c.seen = true;
  }
  for (auto it = connections_.begin(); it != connections_.end();) {
    connection& c = it->second;
    // Gone (closed by either side), or reported by the transport before this pass began and
    // still not found (closed before any pass saw it).
    if (!c.seen && (c.fd >= 0 || c.born < passes_)) {
      it = connections_.erase(it);
      continue;
    }
    const std::string& peer = it->first;
    if (c.seen && !c.closed && c.close_asked) close_now(c);
    if (draining_ && c.seen && !c.closed && waits_for_next_request(c)) close_now(c);
    if (c.seen && !c.busy && !c.closed && limits_.request_timeout.count() > 0 && now - c.armed > limits_.request_timeout) {
      const std::string ms = std::to_string(limits_.request_timeout.count());
      refuse(peer, c, 408, "no complete request within " + ms + " ms",
             "request not received in full within " + ms + " ms (--request-timeout-ms)");
    }
    if (c.seen && c.head_counted && !c.head_read && !c.busy && !c.closed && limits_.max_head_bytes > 0) {
      const uint64_t now_read = bytes_read(c.fd, c.inode);
      const uint64_t head = now_read > c.bytes_at_arm ? now_read - c.bytes_at_arm : 0;
      if (head > limits_.max_head_bytes)
        refuse(peer, c, 431, "request head over " + std::to_string(limits_.max_head_bytes) + " bytes",
               "request headers too large: over " + std::to_string(limits_.max_head_bytes) + " bytes before their end");
    }
    ++it;
  }
  ++passes_;
}

bool connection_guard::waits_for_next_request(const connection& c) const {
  if (!c.kept_alive || c.busy || c.head_read || !c.head_counted) return false;
  const socket_ref ref(c.fd, c.inode);
  if (!ref) return false;
  int waiting = 0;  // bytes of a next request the server has not read yet
  if (::ioctl(ref.fd(), SIOCINQ, &waiting) != 0 || waiting != 0) return false;
  return bytes_read(ref.fd()) == c.bytes_at_arm;  // nor read (httplib reads ahead)
}

void connection_guard::close_now(connection& c) {
  const socket_ref ref(c.fd, c.inode);
  if (!ref) return;  // closed, and the number perhaps reused, since the pass
  c.closed = true;
  // The client has the whole response; its read sees the end after it.
  ::shutdown(ref.fd(), SHUT_RDWR);
}

void connection_guard::refuse(const std::string& peer, connection& c, int status, const std::string& reason,
                              const std::string& message) {
  const socket_ref ref(c.fd, c.inode);
  if (!ref) return;  // closed, and the number perhaps reused, since the pass
  c.closed = true;
  ++closed_;
  if (!tls_) {
    const std::string body = "{\"error\":\"" + message + "\"}";
    const std::string response = "HTTP/1.1 " + std::to_string(status) +
                                 (status == 408 ? " Request Timeout" : " Request Header Fields Too Large") +
                                 "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body;
    // Best effort: the thread serving this connection is blocked reading, not writing.
    [[maybe_unused]] const ssize_t sent =
        ::send(ref.fd(), response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  // Wakes the HTTP thread blocked on this connection: its read sees the end and it closes.
  ::shutdown(ref.fd(), SHUT_RDWR);
  log_line("ptjs serve: closed the connection from " + peer + ": " + reason);
}

}  // namespace ptjs
