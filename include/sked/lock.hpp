// sked/lock.hpp — leases with fencing tokens, and the concept a lock backend satisfies.
//
// A lock in sked is a lease: it expires after its ttl unless renewed, so a holder that
// dies cannot block everyone forever. Because a lease can expire while its holder still
// runs (a long GC pause, a network partition), every lease carries a fencing token: a
// number that grows strictly per lock name, on every backend, across restarts and
// holders. Pass it with each write to the resource you protect and let the resource
// reject a token lower than the highest it has seen; then a stale holder cannot
// corrupt anything (Kleppmann, "How to do distributed locking", 2016).
//
//     sked::memory_locks locks;                         // or sked::redis::locks
//     auto r = locks.try_lock("trade_sweep", 30s);
//     if (!r) log(r.error().message());                // backend down: not acquired
//     else if (r->acquired()) sweep(r->lease.fence);   // held until r->lease.valid_until
#pragma once

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "backend_error.hpp"
#include "result.hpp"

namespace sked {

/// Orders the holders of one lock name: a later holder always has a higher token.
using fence_token = std::uint64_t;

/// Lease validity is measured on the holder's monotonic clock (backends that take an
/// injected clock for tests report on that clock instead).
using lease_clock = std::chrono::steady_clock;

/// The right to act on `name` until `valid_until`.
struct lease {
    std::string name;  ///< the lock name, or the run key of a claim
    std::string owner;  ///< unique per acquisition; renew and unlock check it
    fence_token fence = 0;  ///< pass this to the protected resource with every write
    /// Until when the holder may act: the backend's expiry minus the round trip and a
    /// clock-drift margin, so it errs early. Renewing moves it.
    lease_clock::time_point valid_until{};

    friend bool operator==(const lease&, const lease&) = default;
};

enum class grant_status : std::uint8_t {
    acquired,  ///< the lease is yours
    held_elsewhere,  ///< another holder has a valid lease; try again later
    already_done,  ///< key stores only: the key was completed and is kept as done (keep last)
};

namespace detail {
inline constexpr std::string_view grant_status_names[] = {"acquired", "held_elsewhere", "already_done"};
static_assert(std::size(grant_status_names) == static_cast<std::size_t>(grant_status::already_done) + 1,
              "sked::grant_status: one name per enumerator, in order");
}  // namespace detail

/// A short identifier, e.g. "held_elsewhere".
constexpr std::string_view to_string(grant_status status) noexcept {
    return detail::grant_status_names[static_cast<unsigned>(status)];
}

/// A backend's answer to try_lock or claim. `lease` is meaningful only when acquired.
struct grant {
    grant_status status = grant_status::held_elsewhere;
    sked::lease lease;
    /// held_elsewhere: how long the holder's lease has left (0 when the backend does not
    /// say). A live holder renews at a third of its ttl, so a lease with less than half
    /// its ttl left belongs to a holder that missed a renewal: dead, paused or cut off.
    std::chrono::milliseconds holder_left{0};

    [[nodiscard]] bool acquired() const noexcept { return status == grant_status::acquired; }
};

/// What sked needs from a lock backend. Every call is atomic on the backend, returns
/// within the backend's timeouts, and reports failure as a backend_error:
///   try_lock(name, ttl)  a lease on `name` for `ttl`, or held_elsewhere
///   renew(lease, ttl)    true: extended to ttl from now (lease.valid_until moves);
///                        false: the lease had expired or another holder has the name
///   unlock(lease)        true: released; false: it was no longer this lease's
/// Fencing tokens must grow strictly per name across holders (see docs/locks.md).
template <class B>
concept lock_backend = requires(B& backend, std::string_view name, std::chrono::milliseconds ttl, lease& held,
                                const lease& released) {
    { backend.try_lock(name, ttl) } -> std::same_as<result<grant, backend_error>>;
    { backend.renew(held, ttl) } -> std::same_as<result<bool, backend_error>>;
    { backend.unlock(released) } -> std::same_as<result<bool, backend_error>>;
};

namespace detail {

/// Names are text meant for logs and keys: 1 to 1024 bytes, no control characters
/// (a NUL or newline in a key is almost always a bug upstream, and breaks log lines).
inline constexpr std::size_t max_name_bytes = 1024;
/// A lease shorter than a millisecond cannot be measured; one longer than 30 days is a
/// lock that was meant to be a flag.
inline constexpr std::chrono::milliseconds min_ttl{1};
inline constexpr std::chrono::milliseconds max_ttl{std::chrono::hours{24 * 30}};

inline std::optional<backend_error> check_name(std::string_view what, std::string_view name) {
    if (name.empty()) return backend_error{backend_errc::invalid_argument, std::string(what) + " is empty"};
    if (name.size() > max_name_bytes) {
        return backend_error{backend_errc::invalid_argument, std::string(what) + " is " + std::to_string(name.size()) +
                                                                 " bytes; the limit is " +
                                                                 std::to_string(max_name_bytes)};
    }
    const auto is_control = [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
    };
    // A branch-free pass first (the compiler vectorises it); find the offset only if needed.
    unsigned controls = 0;
    for (char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        controls |= static_cast<unsigned>(byte < 0x20) | static_cast<unsigned>(byte == 0x7f);
    }
    if (controls != 0) {
        const auto control = std::find_if(name.begin(), name.end(), is_control);
        return backend_error{backend_errc::invalid_argument, std::string(what) + " has control byte " +
                                                                 std::to_string(static_cast<unsigned char>(*control)) +
                                                                 " at offset " +
                                                                 std::to_string(control - name.begin())};
    }
    return std::nullopt;
}

inline std::optional<backend_error> check_ttl(std::string_view what, std::chrono::milliseconds ttl) {
    if (ttl >= min_ttl && ttl <= max_ttl) return std::nullopt;
    return backend_error{backend_errc::invalid_argument,
                         std::string(what) + " of " + std::to_string(ttl.count()) + " ms is outside 1 ms to 30 days"};
}

/// check_name for each name of a batch; the error names the item.
inline std::optional<backend_error> check_names(std::string_view what, std::span<const std::string> names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (auto bad = check_name(what, names[i])) {
            if (names.size() > 1) bad->detail += " (item " + std::to_string(i) + " of the batch)";
            return bad;
        }
    }
    return std::nullopt;
}

/// Margin for clock drift between a client and a server that times its leases: 1 % of
/// the ttl plus 2 ms, as the Redlock description suggests. A lease is treated as valid
/// that much less long.
inline std::chrono::milliseconds drift_allowance(std::chrono::milliseconds ttl) {
    return ttl / 100 + std::chrono::milliseconds{2};
}

/// The fencing rule every backend follows: one more than the last token issued for the
/// name, and never less than the backend's wall clock in microseconds. The floor keeps
/// tokens growing when the backend has forgotten the name (a restart without
/// persistence, a record past its retention) as long as its clock did not step back.
constexpr fence_token next_fence(fence_token last, std::uint64_t wall_clock_us) noexcept {
    return std::max(last + 1, fence_token{wall_clock_us});
}

}  // namespace detail
}  // namespace sked
