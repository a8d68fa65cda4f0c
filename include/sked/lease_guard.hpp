// sked/lease_guard.hpp — keep a lease alive while work runs, and give it back after.
//
// lease_renewal renews a lease on a thread of its own at a fraction of its ttl, stops
// after a bounded number of renewals, and tells the holder the moment the lease is
// lost: the stop_token it hands out is stopped and the callback runs. lease_guard is
// the RAII form for locks: it unlocks when it goes out of scope.
//
//     auto g = locks.try_lock("trade_sweep", 30s);
//     if (g && g->acquired()) {
//         sked::lease_guard guard{locks, g->lease, sked::renewal{.ttl = 30s}};
//         sweep(guard.fence(), guard.stop_token());     // stops early if the lease is lost
//     }                                                 // renewal stops, lock released
//
// Renewal waits on the real steady clock, so use it with backends on that clock (not
// with a memory backend driven by a test clock). The backend is called from the
// renewal thread as well as yours; sked's backends are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <utility>

#include "backend_error.hpp"
#include "lock.hpp"
#include "result.hpp"

namespace sked {

/// How a lease is kept alive.
struct renewal {
    std::chrono::milliseconds ttl{30'000};  ///< each renewal extends the lease to ttl from then
    double at_fraction = 1.0 / 3;  ///< renew when this fraction of ttl has passed since the last renewal
    std::uint32_t max_renewals = 1000;  ///< then stop renewing and let the lease run out

    /// How long after a renewal the next one is due: at_fraction of ttl. The scheduler
    /// renews its runs' leases by the same rule.
    template <class Duration = lease_clock::duration>
    [[nodiscard]] constexpr Duration interval() const {
        return std::chrono::duration_cast<Duration>(ttl * at_fraction);
    }
};

enum class lease_loss : std::uint8_t {
    taken,  ///< the backend says the lease is no longer ours (it expired, or another holder has it)
    unconfirmed,  ///< the backend failed until the lease's validity ran out
    limit_reached,  ///< max_renewals renewals were made and the lease ran out (keep last)
};

namespace detail {
inline constexpr std::string_view lease_loss_names[] = {"taken", "unconfirmed", "limit_reached"};
static_assert(std::size(lease_loss_names) == static_cast<std::size_t>(lease_loss::limit_reached) + 1,
              "sked::lease_loss: one name per enumerator, in order");
}  // namespace detail

constexpr std::string_view to_string(lease_loss reason) noexcept {
    return detail::lease_loss_names[static_cast<unsigned>(reason)];
}

/// Anything whose leases can be renewed: lock backends and key stores.
template <class B>
concept renewable_backend = requires(B& backend, lease& held, std::chrono::milliseconds ttl) {
    { backend.renew(held, ttl) } -> std::same_as<result<bool, backend_error>>;
};

/// Renews one lease on its own thread until destroyed or the lease is lost.
template <class Backend>
class lease_renewal {
    static_assert(renewable_backend<Backend>,
                  "sked::lease_renewal needs renew(sked::lease&, std::chrono::milliseconds) returning "
                  "sked::result<bool, sked::backend_error>");

public:
    using loss_callback = std::function<void(lease_loss)>;

    lease_renewal(Backend& backend, lease held, renewal policy, loss_callback on_lost = {})
        : backend_(backend), policy_(policy), on_lost_(std::move(on_lost)), lease_(std::move(held)) {
        worker_ = std::jthread([this](std::stop_token stop) { keep_alive(stop); });
    }

    lease_renewal(const lease_renewal&) = delete;
    lease_renewal& operator=(const lease_renewal&) = delete;
    ~lease_renewal() = default;  // the jthread requests stop and joins first (declared last)

    /// The lease as last renewed.
    [[nodiscard]] lease current() const {
        std::lock_guard hold{mutex_};
        return lease_;
    }

    /// Stopped the moment the lease is lost.
    [[nodiscard]] std::stop_token stop_token() const noexcept { return lost_.get_token(); }

    /// Why the lease was lost, if it was.
    [[nodiscard]] std::optional<lease_loss> loss() const {
        std::lock_guard hold{mutex_};
        return loss_;
    }

    /// Stops renewing (returns once the renewal thread is done) and hands back the lease.
    lease stop() {
        worker_.request_stop();
        if (worker_.joinable()) worker_.join();
        return current();
    }

private:
    void keep_alive(std::stop_token stop) {
        const auto interval = policy_.interval();
        const auto retry_interval = std::max<lease_clock::duration>(interval / 4, std::chrono::milliseconds{1});
        auto next = lease_clock::now() + interval;
        std::uint32_t renewals = 0;
        while (true) {
            if (renewals == policy_.max_renewals) {
                if (sleep_until(stop, current().valid_until)) report(lease_loss::limit_reached);
                return;
            }
            if (!sleep_until(stop, next)) return;
            lease attempt = current();
            const auto outcome = backend_.renew(attempt, policy_.ttl);
            const auto now = lease_clock::now();
            if (outcome && *outcome) {
                std::lock_guard hold{mutex_};
                lease_ = std::move(attempt);
                ++renewals;
                next = now + interval;
            } else if (outcome) {
                return report(lease_loss::taken);
            } else if (now >= attempt.valid_until) {
                return report(lease_loss::unconfirmed);
            } else {
                next = std::min(now + retry_interval, attempt.valid_until);
            }
        }
    }

    // False when stop was requested before `deadline`.
    bool sleep_until(const std::stop_token& stop, lease_clock::time_point deadline) {
        std::unique_lock hold{mutex_};
        return !wake_.wait_until(hold, stop, deadline, [] { return false; }) && !stop.stop_requested();
    }

    void report(lease_loss reason) {
        {
            std::lock_guard hold{mutex_};
            loss_ = reason;
        }
        lost_.request_stop();
        if (on_lost_) on_lost_(reason);
    }

    Backend& backend_;
    renewal policy_;
    loss_callback on_lost_;
    mutable std::mutex mutex_;
    std::condition_variable_any wake_;
    lease lease_;
    std::optional<lease_loss> loss_;
    std::stop_source lost_;
    std::jthread worker_;  // last: joined before the members it uses are destroyed
};

/// Holds a lock until it goes out of scope (or release() is called), optionally
/// renewing it meanwhile.
// Constrained by static_assert rather than in the template head, so that a misfit
// type gets this sentence and the failed requirement, not a deduction failure.
template <class Backend>
class lease_guard {
    static_assert(lock_backend<Backend>,
                  "sked::lease_guard needs a sked::lock_backend: try_lock(name, ttl), renew(lease&, ttl) and "
                  "unlock(lease), each returning a sked::result with a sked::backend_error");

public:
    /// Unlocks at the end of the scope; the lease is not renewed.
    lease_guard(Backend& backend, lease held) : backend_(backend), lease_(std::move(held)) {}

    /// Renews as `policy` says, reporting a loss through stop_token() and `on_lost`.
    lease_guard(Backend& backend, lease held, renewal policy,
                typename lease_renewal<Backend>::loss_callback on_lost = {})
        : backend_(backend) {
        renewal_.emplace(backend, std::move(held), policy, std::move(on_lost));
    }

    lease_guard(const lease_guard&) = delete;
    lease_guard& operator=(const lease_guard&) = delete;
    ~lease_guard() { (void)release(); }

    [[nodiscard]] fence_token fence() const { return current().fence; }
    [[nodiscard]] lease current() const { return renewal_ ? renewal_->current() : lease_; }

    /// Stopped when a renewed lease is lost; never stopped without renewal.
    [[nodiscard]] std::stop_token stop_token() const noexcept {
        return renewal_ ? renewal_->stop_token() : std::stop_token{};
    }

    /// Stops renewing and unlocks. True when the lease was still ours; calling it again
    /// does nothing and answers false.
    result<bool, backend_error> release() {
        if (released_) return false;
        released_ = true;
        if (renewal_) lease_ = renewal_->stop();
        return backend_.unlock(lease_);
    }

private:
    Backend& backend_;
    lease lease_;
    std::optional<lease_renewal<Backend>> renewal_;
    bool released_ = false;
};

}  // namespace sked
