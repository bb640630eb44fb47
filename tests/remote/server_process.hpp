#pragma once
// Starts `dsegym serve` on a free loopback port for a test and stops it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace dsegym::testing {

class ServerProcess {
public:
  explicit ServerProcess(std::vector<std::string> extra = {}) {
    port_file_ = (std::filesystem::temp_directory_path() / ("dsegym_port_" + std::to_string(::getpid()) + "_" + std::to_string(++count_))).string();
    std::filesystem::remove(port_file_);
    std::vector<std::string> args = {DSEGYM_BIN, "serve", "--port", "0", "--port-file", port_file_};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::freopen("/dev/null", "w", stderr);
      ::execv(DSEGYM_BIN, argv.data());
      _exit(127);
    }
    for (int i = 0; i < 500 && !std::filesystem::exists(port_file_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::ifstream(port_file_) >> port_;
  }
  ~ServerProcess() { stop(SIGTERM); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Returns the exit status.
  int stop(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    std::filesystem::remove(port_file_);
    return status;
  }

private:
  static inline int count_ = 0;
  std::string port_file_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace dsegym::testing
