#pragma once
// A fixed pool of worker threads running blocking parallel loops.
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dsegym {

class ThreadPool {
public:
  // `threads` workers besides the caller; 0 runs everything on the caller.
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  std::size_t threads() const { return workers_.size(); }

  // Calls fn(i) for i in [0, n) across the pool and the caller; returns when
  // all are done. The first exception thrown by fn is rethrown here.
  void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn);

private:
  void worker();
  void drain(std::unique_lock<std::mutex>& lock);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t n_ = 0, next_ = 0, finished_ = 0, active_ = 0;
  std::size_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::mutex call_mu_;  // one parallel_for at a time
};

}  // namespace dsegym
