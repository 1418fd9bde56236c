#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <httplib.h>

extern char** environ;

namespace ptjs_test {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string base64(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += {table[v >> 18], table[(v >> 12) & 63], table[(v >> 6) & 63], table[v & 63]};
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    out += {table[v >> 18], table[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += {table[v >> 18], table[(v >> 12) & 63], table[(v >> 6) & 63], '='};
  }
  return out;
}

server_process::server_process(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);

  std::vector<std::string> argv_text = {ptjs_bin};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text;
  // A key in the caller's environment would turn every test request into a 401.
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "PTJS_API_KEY=", 13) != 0) env_text.emplace_back(*e);
  env_text.insert(env_text.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int rc = posix_spawn(&pid_, ptjs_bin.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw std::runtime_error("cannot start " + ptjs_bin);
  }
  stderr_fd_ = fds[0];
  reader_ = std::thread([this] {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(stderr_fd_, buf, sizeof buf);
      std::lock_guard<std::mutex> lock(mu_);
      if (n <= 0) {
        eof_ = true;
        grew_.notify_all();
        return;
      }
      stderr_.append(buf, static_cast<size_t>(n));
      grew_.notify_all();
    }
  });
}

server_process::~server_process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(10));
  }
  if (reader_.joinable()) reader_.join();
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
}

bool server_process::wait_for(const std::string& needle, std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return grew_.wait_for(lock, timeout, [&] { return eof_ || stderr_.find(needle) != std::string::npos; }) &&
         stderr_.find(needle) != std::string::npos;
}

namespace {

// The port of a "listening on http(s)://HOST:PORT" line, or -1.
int listening_port(const std::string& text) {
  const size_t at = text.find("listening on http");
  if (at == std::string::npos) return -1;
  const size_t end = text.find('\n', at);
  if (end == std::string::npos) return -1;
  const size_t colon = text.rfind(':', end);
  return std::atoi(text.substr(colon + 1, end - colon - 1).c_str());
}

}  // namespace

int server_process::wait_port(std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  grew_.wait_for(lock, timeout, [&] { return eof_ || listening_port(stderr_) > 0; });
  const int port = listening_port(stderr_);
  return port > 0 ? port : -1;
}

bool server_process::wait_ready(int port, std::chrono::seconds timeout) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(1));
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end && running()) {
    if (auto res = client.Get("/v2/health/ready"); res && res->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void server_process::signal(int sig) const { ::kill(pid_, sig); }

bool server_process::running() {
  if (exited_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exited_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

int server_process::wait_exit(std::chrono::seconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

std::string server_process::stderr_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stderr_;
}

}  // namespace ptjs_test
