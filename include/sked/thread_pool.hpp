// sked/thread_pool.hpp — a small fixed pool of threads to run jobs on.
//
//     sked::thread_pool pool{4};                              // declare before the scheduler,
//     sked::scheduler s{{.executor = pool.executor()}};      // so it is destroyed after it
//
// Tasks run in submission order on whichever thread is free. The destructor runs every
// task already submitted, then joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "executor.hpp"

namespace sked {

class thread_pool {
public:
    explicit thread_pool(std::size_t threads = 4) {
        if (threads == 0) threads = 1;
        workers_.reserve(threads);
        for (std::size_t i = 0; i < threads; ++i)
            workers_.emplace_back([this] { work(); });
    }
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;
    ~thread_pool() {
        {
            std::lock_guard hold{mutex_};
            closing_ = true;
        }
        ready_.notify_all();
        for (auto& w : workers_)
            w.join();
    }

    void submit(std::function<void()> task) {
        {
            std::lock_guard hold{mutex_};
            tasks_.push_back(std::move(task));
        }
        ready_.notify_one();
    }

    /// An executor for scheduler_options; the pool must outlive the scheduler.
    [[nodiscard]] executor_function executor() {
        return [this](std::function<void()> task) { submit(std::move(task)); };
    }

    [[nodiscard]] std::size_t size() const noexcept { return workers_.size(); }

private:
    void work() {
        while (true) {
            std::function<void()> task;
            {
                std::unique_lock hold{mutex_};
                ready_.wait(hold, [this] { return closing_ || !tasks_.empty(); });
                if (tasks_.empty()) return;  // closing, and nothing left to run
                task = std::move(tasks_.front());
                tasks_.pop_front();
            }
            task();
        }
    }

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> tasks_;
    bool closing_ = false;
    std::vector<std::thread> workers_;  // last: started after the members they use
};

}  // namespace sked
