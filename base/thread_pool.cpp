#include "base/thread_pool.hpp"

namespace dsegym {

ThreadPool::ThreadPool(std::size_t threads) {
  workers_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { worker(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

// Runs indices of the current job until none are left; `lock` holds mu_.
void ThreadPool::drain(std::unique_lock<std::mutex>& lock) {
  while (next_ < n_) {
    const std::size_t i = next_++;
    const auto* job = job_;
    lock.unlock();
    std::exception_ptr err;
    try {
      (*job)(i);
    } catch (...) {
      err = std::current_exception();
    }
    lock.lock();
    if (err && !error_) error_ = err;
    if (++finished_ == n_) done_.notify_all();
  }
}

void ThreadPool::worker() {
  std::size_t seen = 0;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    ++active_;
    drain(lock);
    if (--active_ == 0) done_.notify_all();
  }
}

void ThreadPool::parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 0) return;
  std::lock_guard<std::mutex> call(call_mu_);
  if (workers_.empty() || n == 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  job_ = &fn;
  n_ = n;
  next_ = 0;
  finished_ = 0;
  error_ = nullptr;
  ++generation_;
  wake_.notify_all();
  drain(lock);
  // Wait until every index has finished and no worker still reads job_.
  done_.wait(lock, [&] { return finished_ == n_ && active_ == 0; });
  job_ = nullptr;
  n_ = 0;
  auto err = error_;
  error_ = nullptr;
  lock.unlock();
  if (err) std::rethrow_exception(err);
}

}  // namespace dsegym
