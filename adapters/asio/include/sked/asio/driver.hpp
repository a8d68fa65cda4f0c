// sked/asio/driver.hpp — runs a scheduler from an io_context's threads, instead of a
// thread of its own (sked::runner).
//
//     boost::asio::io_context io;
//     boost::asio::thread_pool pool{4};                  // blocking work goes here
//     sked::scheduler s{{.backend = keys, .executor = sked::asio::post_to(pool)}};
//     sked::asio::driver d{io.get_executor(), s};
//     d.start();
//     ...
//     d.async_stop(30s, [](sked::shutdown_report report) { ... });   // or use_future, use_awaitable
//
// One steady_timer on a strand waits until the scheduler's next wakeup, but never longer
// than max_wait (1 s): a wait is measured on the steady clock and a slot is due on the
// wall clock, so a step of the wall clock is acted on within max_wait. (asio turns even
// a system_timer's deadline into a monotonic wait of at most 5 minutes, so a wall
// deadline would fire late after a forward step.) on_wakeup_change re-arms the timer when
// something becomes due sooner (add, run_now, a retry).
//
// Nothing blocking runs on the io_context's threads. A pass (scheduler::run_due) renews
// leases, takes one-off jobs and asks the backend for its facts, so it goes to
// driver_options::pass_executor, else to the scheduler's executor; only a scheduler with
// neither (inline, e.g. a memory backend and non-blocking jobs) runs it on the strand.
// A pass sent to the scheduler's executor waits behind the jobs there: give that pool a
// thread more than the jobs that may run at once, or give passes their own executor.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

#include <sked/executor.hpp>
#include <sked/scheduler.hpp>

#include "net.hpp"

namespace sked::asio {

struct driver_options {
    /// The longest timer wait: how soon a wall-clock step is noticed, at the cost of one
    /// pass per max_wait when idle.
    std::chrono::milliseconds max_wait{1'000};
    /// How often async_stop looks whether the runs have ended (it never blocks a thread).
    std::chrono::milliseconds stop_poll{5};
    /// Where a pass runs. Empty: the scheduler's executor (inline on the strand if none).
    executor_function pass_executor{};
};

/// An executor_function that posts to an asio executor or execution context (e.g. an
/// asio::thread_pool), for scheduler_options::executor or driver_options::pass_executor.
template <class ExecutorOrContext>
[[nodiscard]] executor_function post_to(ExecutorOrContext&& where) {
    if constexpr (std::is_base_of_v<net::execution_context, std::remove_cvref_t<ExecutorOrContext>>) {
        return [ex = where.get_executor()](std::function<void()> task) { net::post(ex, std::move(task)); };
    } else {
        return [ex = where](std::function<void()> task) { net::post(ex, std::move(task)); };
    }
}

template <class Executor = net::any_io_executor>
class driver {
public:
    driver(const Executor& io, scheduler& engine, driver_options options = {})
        : state_(std::make_shared<state>(io, engine, std::move(options))) {}
    driver(const driver&) = delete;
    driver& operator=(const driver&) = delete;
    /// Stops driving and waits for a pass in flight; it does not stop the runs (call
    /// async_stop for that, and let it complete, before the scheduler goes).
    ~driver() { state_->halt(); }

    /// Begins the first pass; from then on the timer keeps it going. A second call does
    /// nothing.
    void start() { state_->start(); }

    /// Graceful stop, as sked::runner::stop: stop dispatching at once; when no pass is in
    /// flight (or the deadline has passed), request stop on every running job; complete
    /// when they have returned or at the deadline, with the report (the runs still going
    /// keep their leases until they expire). Completion signature void(shutdown_report);
    /// calling it again completes with an empty report.
    template <class CompletionToken>
    auto async_stop(std::chrono::milliseconds deadline, CompletionToken&& token) {
        return net::async_initiate<CompletionToken, void(shutdown_report)>(
            [](auto handler, std::shared_ptr<state> st, std::chrono::milliseconds d) {
                st->stop(std::move(handler), d);
            },
            token, state_, deadline);
    }

    /// How many passes (run_due calls) have completed.
    [[nodiscard]] std::uint64_t passes() const noexcept { return state_->passes.load(std::memory_order_relaxed); }

private:
    // Shared with every handler in flight, so a handler that runs after the driver is
    // gone finds `halted` and leaves. Plain members are touched on the strand only.
    struct state : std::enable_shared_from_this<state> {
        state(const Executor& io, scheduler& e, driver_options o)
            : engine(e), options(std::move(o)), strand(io), timer(strand) {
            if (!options.pass_executor) options.pass_executor = engine.executor();
        }

        using work_guard = net::executor_work_guard<net::strand<Executor>>;

        scheduler& engine;
        driver_options options;
        net::strand<Executor> strand;
        net::steady_timer timer;
        std::uint64_t wait_number = 0;  // the timer wait that counts; older ones do nothing
        bool in_pass = false;
        bool stopping = false;
        std::mutex engine_use;  // held by whoever touches the engine, so halt() can wait
        bool halted = false;  // under engine_use
        std::atomic<bool> started{false};
        std::atomic<bool> wake_posted{false};
        std::atomic<std::uint64_t> passes{0};

        // Runs `use(engine)` unless the driver is gone; false when it is.
        template <class Use>
        bool with_engine(Use&& use) {
            std::lock_guard hold{engine_use};
            if (halted) return false;
            use(engine);
            return true;
        }

        void start() {
            if (started.exchange(true)) return;
            with_engine(
                [self = this->shared_from_this()](scheduler& e) { e.on_wakeup_change([self] { self->wake(); }); });
            net::post(strand, [self = this->shared_from_this()] {
                if (!self->in_pass) self->pass();  // a wake may have begun one already
            });
        }

        void halt() {
            {
                std::lock_guard hold{engine_use};
                if (halted) return;
                halted = true;
                engine.on_wakeup_change({});
            }
            net::post(strand, [self = this->shared_from_this()] { self->timer.cancel(); });
        }

        // From any thread: something may be due sooner. Coalesced: one post at a time.
        void wake() {
            if (wake_posted.exchange(true)) return;
            net::post(strand, [self = this->shared_from_this()] {
                self->wake_posted = false;
                if (!self->in_pass) self->pass();  // else the pass's end re-arms the timer
            });
        }

        // ---- on the strand ---------------------------------------------------------------
        void pass() {
            // Once halted, not even the pass executor is touched: it may be gone too.
            if (stopping || !with_engine([](scheduler&) {})) return;
            in_pass = true;
            ++wait_number;
            timer.cancel();
            auto self = this->shared_from_this();
            if (!options.pass_executor) {
                with_engine([](scheduler& e) { e.run_due(); });
                passed();
                return;
            }
            // The work guard keeps the io_context running while the pass is elsewhere.
            options.pass_executor([self, work = std::make_shared<work_guard>(strand)] {
                self->with_engine([](scheduler& e) { e.run_due(); });
                net::post(self->strand, [self, work] { self->passed(); });
            });
        }

        void passed() {
            in_pass = false;
            passes.fetch_add(1, std::memory_order_relaxed);
            if (!stopping) arm();
        }

        void arm() {
            auto wait = std::chrono::nanoseconds{options.max_wait};
            const bool alive = with_engine([&wait](scheduler& e) {
                if (const auto next = e.next_wakeup()) {
                    // The engine reads whole milliseconds; the wait is against the full
                    // resolution, or it would wake up to 1 ms late.
                    const auto real = std::chrono::system_clock::now();
                    const auto fraction = real - std::chrono::floor<std::chrono::milliseconds>(real);
                    wait = std::min(wait, std::chrono::nanoseconds{*next - e.now()} - fraction);
                }
            });
            if (!alive) return;
            const auto number = ++wait_number;
            timer.expires_after(std::max(wait, std::chrono::nanoseconds::zero()));
            timer.async_wait(net::bind_executor(strand, [self = this->shared_from_this(), number](error_code) {
                if (number == self->wait_number) self->pass();
            }));
        }

        template <class Handler>
        void stop(Handler handler, std::chrono::milliseconds deadline) {
            const auto until = std::chrono::steady_clock::now() + deadline;
            engine.stop_dispatching();  // the caller's engine is alive; no pass may hold us up
            net::post(strand, [self = this->shared_from_this(), h = std::move(handler), until]() mutable {
                if (self->stopping) return self->complete(std::move(h), {});
                self->stopping = true;
                ++self->wait_number;
                self->timer.cancel();
                self->with_engine([](scheduler& e) { e.on_wakeup_change({}); });
                self->await_pass(std::move(h), until);
            });
        }

        // Runs a pass starts after request_stop_all would not be asked to stop: wait for it.
        template <class Handler>
        void await_pass(Handler h, std::chrono::steady_clock::time_point until) {
            if (in_pass && std::chrono::steady_clock::now() < until) {
                return after_a_poll([self = this->shared_from_this(), h = std::move(h), until]() mutable {
                    self->await_pass(std::move(h), until);
                });
            }
            shutdown_report report;
            with_engine([&report](scheduler& e) { report.stop_requested = e.request_stop_all(); });
            await_idle(std::move(h), until, std::move(report));
        }

        template <class Handler>
        void await_idle(Handler h, std::chrono::steady_clock::time_point until, shutdown_report report) {
            const auto now = std::chrono::steady_clock::now();
            with_engine([&report, now](scheduler& e) { report.unfinished = e.wait_idle(now); });
            if (!report.unfinished.empty() && now < until) {
                return after_a_poll(
                    [self = this->shared_from_this(), h = std::move(h), until, r = std::move(report)]() mutable {
                        self->await_idle(std::move(h), until, std::move(r));
                    });
            }
            complete(std::move(h), std::move(report));
        }

        template <class Next>
        void after_a_poll(Next next) {
            timer.expires_after(options.stop_poll);
            timer.async_wait(net::bind_executor(strand, [n = std::move(next)](error_code) mutable { n(); }));
        }

        // The handler runs on its own executor (the strand, unless it has one), never inline.
        template <class Handler>
        void complete(Handler h, shutdown_report report) {
            const auto ex = net::get_associated_executor(h, strand);
            net::post(ex, [h = std::move(h), r = std::move(report)]() mutable { std::move(h)(std::move(r)); });
        }
    };

    std::shared_ptr<state> state_;
};

}  // namespace sked::asio
