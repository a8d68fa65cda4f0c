// sked/executor.hpp — where a scheduler's runs execute.
//
//     sked::thread_pool pool{4};
//     sked::scheduler s{{.executor = pool.executor()}};
//
// An executor takes a task and runs it somewhere: a sked::thread_pool, an
// asio::thread_pool's post, a service's own task queue. Left empty, runs happen inline
// inside run_due, which makes a scheduler on a virtual clock deterministic. Whatever runs
// the tasks must outlive the scheduler, and must run every task it accepted: the
// scheduler's destructor waits for them.
#pragma once

#include <functional>

namespace sked {

/// Runs a task somewhere (a thread pool's submit). Empty: inline, inside run_due.
using executor_function = std::function<void(std::function<void()>)>;

}  // namespace sked
