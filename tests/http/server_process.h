// Starts the real `ptjs serve` binary for black-box tests and reads its stderr.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ptjs_test {

// Compile definitions, never the cwd.
inline const std::string ptjs_bin = PTJS_BIN;
inline const std::string source_dir = PTJS_SOURCE_DIR;
inline const std::string gen_dir = PTJS_HTTP_GEN;
inline const std::string digits_dir = source_dir + "/configs/digits";

std::string read_file(const std::string& path);
std::string base64(const std::string& bytes);

class server_process {
 public:
  // Spawns ptjs with `args` (stdout to /dev/null, stderr captured); `env` entries are
  // NAME=VALUE added to the environment.
  explicit server_process(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
  // Kills the process if it still runs.
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  // Waits for "listening on http(s)://HOST:PORT" on stderr; returns the port, or -1 when the
  // process exits or the time runs out.
  int wait_port(std::chrono::seconds timeout = std::chrono::seconds(30));
  // Waits until stderr holds `needle`.
  bool wait_for(const std::string& needle, std::chrono::seconds timeout);
  // Polls GET /v2/health/ready until 200.
  bool wait_ready(int port, std::chrono::seconds timeout = std::chrono::seconds(60));

  void signal(int sig) const;
  // The exit code, 128+N for a signal, or -1 when it has not exited in time.
  int wait_exit(std::chrono::seconds timeout);
  bool running();
  std::string stderr_text() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  int status_ = -1;
  bool exited_ = false;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable grew_;
  std::string stderr_;  // guarded by mu_
  bool eof_ = false;    // guarded by mu_
};

}  // namespace ptjs_test
