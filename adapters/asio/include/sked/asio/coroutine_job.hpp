// sked/asio/coroutine_job.hpp — a job (or one-off handler) that is a coroutine on an
// io_context.
//
//     s.add({.name = "sweep", .schedule = every_minute,
//            .run = sked::asio::coroutine(io.get_executor(),
//                [&](const sked::job_context& c) -> boost::asio::awaitable<void> {
//                    co_await sked::asio::sleep_for(c.stop, 200ms);   // returns early on stop
//                    co_await sweep_expired(c.fence);
//                })});
//
// The body the scheduler runs (on its executor) spawns the coroutine on a strand of `io`
// and waits for it: the run ends when the coroutine does, and fails if it throws. When the
// run is stopped (its timeout, a lost lease, shutdown: the context's stop token), the
// coroutine is cancelled: by sked::asio::sleep_for in every asio version, and from asio
// 1.19 on (standalone 1.22; not Boost 1.74's 1.18) also by terminal cancellation of
// whatever operation it awaits. A cancelled operation throws operation_aborted, so the
// run ends as stopped runs do (timed out, or failed).
//
// A coroutine that throws fails the run with the exception's what() (the waiting body
// throws a std::runtime_error holding that text): the exception object itself stays on the
// io thread. Shared between threads, its last reference would be dropped by whichever thread
// is last; libstdc++ counts those references atomically, but inside the uninstrumented
// library, so ThreadSanitizer reported the io thread's destructor racing with the run's read.
//
// The waiting body holds one thread of the scheduler's executor while the coroutine runs
// on the io_context, which must keep running until the coroutine ends.
#pragma once

#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>

#include "net.hpp"

#include <sked/detail/failure_text.hpp>

namespace sked::asio {

/// Waits `duration` on the coroutine's executor; throws operation_aborted when `stop` is
/// requested first (or already was).
inline net::awaitable<void> sleep_for(std::stop_token stop, std::chrono::steady_clock::duration duration) {
    if (stop.stop_requested()) throw_operation_aborted();
    const auto ex = co_await net::this_coro::executor;
    // Shared: a cancel posted by the stop callback may run after this frame is gone.
    auto timer = std::make_shared<net::steady_timer>(ex, duration);
    const std::stop_callback on_stop{stop, [timer, ex] { net::post(ex, [timer] { timer->cancel(); }); }};
    co_await timer->async_wait(net::use_awaitable);
    if (stop.stop_requested()) throw_operation_aborted();
}

namespace detail {
// What the waiting body and the coroutine's strand share.
struct coroutine_run {
    std::promise<std::optional<std::string>> done;  // what the coroutine threw, if it did
    bool finished = false;  // on the strand
#if SKED_ASIO_HAS_CANCELLATION_SLOTS
    net::cancellation_signal cancel;  // emitted on the strand only
#endif
};
}  // namespace detail

/// A job body (for job_spec::run, or a one-off handler) that runs `function(context)`, an
/// awaitable<void>, on a strand of `io` and returns when it has finished.
template <class Executor, class Function>
[[nodiscard]] auto coroutine(const Executor& io, Function function) {
    return [io, function = std::move(function)](const auto& context) {
        const auto strand = net::make_strand(io);
        auto run = std::make_shared<detail::coroutine_run>();
        auto finished = run->done.get_future();
        auto on_end = [run](const std::exception_ptr& failure) {
            run->finished = true;
            run->done.set_value(failure ? std::optional{sked::detail::failure_text(failure)} : std::nullopt);
        };
#if SKED_ASIO_HAS_CANCELLATION_SLOTS
        const std::stop_callback on_stop{context.stop, [run, strand] {
                                             net::post(strand, [run] {
                                                 if (!run->finished) run->cancel.emit(net::cancellation_type::terminal);
                                             });
                                         }};
        net::co_spawn(strand, function(context), net::bind_cancellation_slot(run->cancel.slot(), std::move(on_end)));
#else
        net::co_spawn(strand, function(context), std::move(on_end));
#endif
        if (auto failure = finished.get()) throw std::runtime_error(std::move(*failure));
    };
}

}  // namespace sked::asio
