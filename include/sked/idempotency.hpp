// sked/idempotency.hpp — run keys, and the concept a key store satisfies.
//
// A scheduled run is identified by its job and its *nominal* fire time: the instant
// the schedule says, never the actual start or a jittered one, so every replica and
// every retry computes the same key. A key store hands each key to one holder at a
// time and remembers the keys that completed:
//
//     auto key = sked::run_key("daily_reward", slot);   // daily_reward@2026-11-23T00:00:00Z
//     auto g = keys.claim(key, 5min);
//     if (g && g->acquired()) {
//         grant_rewards(key, g->lease.fence);            // effects idempotent by key
//         keys.complete(g->lease, 7 * 24h);              // never runs again within 7 days
//     }
#pragma once

#include <chrono>
#include <concepts>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend_error.hpp"
#include "clock.hpp"
#include "lock.hpp"
#include "result.hpp"
#include "rfc3339.hpp"

namespace sked {

/// The bytes run_key() adds to a job name: '@' and 20 of time (years 0-9999).
inline constexpr std::size_t run_key_suffix_bytes = 21;
/// The longest job name whose run keys are still valid key names.
inline constexpr std::size_t max_job_name_bytes = detail::max_name_bytes - run_key_suffix_bytes;

/// "<job>@<nominal time in RFC 3339, UTC>", e.g. "daily_reward@2026-11-23T00:00:00Z".
/// Within years 0-9999 the time is the last 20 bytes, so a job name may contain '@'.
inline std::string run_key(std::string_view job, std::chrono::sys_seconds nominal) {
    const std::string stamp = rfc3339(nominal);
    std::string key;
    key.reserve(job.size() + 1 + stamp.size());
    key.append(job).append(1, '@').append(stamp);
    return key;
}

/// What sked needs from a key store. Every call is atomic on the store and reports
/// failure as a backend_error:
///   claim(key, ttl)         acquired (a lease with a fencing token), held_elsewhere
///                           (another holder's lease is valid), or already_done
///   renew(lease, ttl)       as for locks: keep a long run's claim alive
///   complete(lease, keep)   true: recorded as done, and claims answer already_done for
///                           `keep`; false: another holder claimed the key after this
///                           lease expired (the work may have run twice)
///   release(lease)          true: the key is free again so a retry can claim it
/// A claim whose holder died is claimable again once its lease expired, with a higher
/// fencing token.
template <class S>
concept key_store = requires(S& store, std::string_view key, std::chrono::milliseconds ttl, lease& held,
                             const lease& finished) {
    { store.claim(key, ttl) } -> std::same_as<result<grant, backend_error>>;
    { store.renew(held, ttl) } -> std::same_as<result<bool, backend_error>>;
    { store.complete(finished, ttl) } -> std::same_as<result<bool, backend_error>>;
    { store.release(finished) } -> std::same_as<result<bool, backend_error>>;
};

/// Optional for a key store: where each job's handled slots have reached, so a
/// scheduler that was down (every replica of it) knows which slots it missed.
///   last_slot(job)          the latest slot recorded for `job`, or nullopt
///   record_slot(job, slot)  moves the record to `slot` if that is later (never back);
///                           true when it moved
/// Optional for a key store: which of `keys` were claimed and then abandoned, i.e. the
/// lease ran out with no completion and no release (the holder died or stalled).
///   abandoned(keys)         one flag per key, in order
/// A scheduler that starts looks back over a job's recent slots with it, so a dead
/// holder's slot is recovered also when no live replica saw it held.
template <class S>
concept abandoned_claims = requires(S& store, std::span<const std::string> keys) {
    { store.abandoned(keys) } -> std::same_as<result<std::vector<bool>, backend_error>>;
};

/// Optional for a key store: many claims in one round trip.
///   claim_many(keys, ttl)   one grant per key, in order. Every key is checked before any
///                           is claimed; an error means none is known to be held (any
///                           taken before a connection failed runs out with its lease).
/// The scheduler claims the run keys of slots that come due together with it.
template <class S>
concept batch_claims = requires(S& store, std::span<const std::string> keys, std::chrono::milliseconds ttl) {
    { store.claim_many(keys, ttl) } -> std::same_as<result<std::vector<grant>, backend_error>>;
};

/// The end of a run's claim of a run key, for settle_many: completed (remembered as done
/// for `keep`) or released, and, with `record`, the job's record of handled slots moved
/// to it (sked::slot_progress) once the key is settled.
struct key_settlement {
    const lease* key = nullptr;
    bool completed = false;
    std::chrono::milliseconds keep{0};
    std::string_view job{};
    std::optional<std::chrono::sys_seconds> record{};
};
/// What one key_settlement came to: complete's or release's answer, and record_slot's
/// (false when there was nothing to record).
struct key_settled {
    result<bool, backend_error> key = false;
    result<bool, backend_error> recorded = false;
};

/// Optional for a key store with slot progress: the ends of many runs in one round trip.
///   settle_many(batch)      one key_settled per item, in order; an error means the
///                           round trip failed (which items took effect is unknown)
/// The scheduler sends the ends of runs that finish together with it.
template <class S>
concept batch_settles = requires(S& store, std::span<const key_settlement> batch) {
    { store.settle_many(batch) } -> std::same_as<result<std::vector<key_settled>, backend_error>>;
};

/// What a backend says about itself: its clock, and an identity that changes when it
/// restarts (Redis: TIME and INFO's run_id).
struct backend_facts {
    instant time;
    std::string instance;
};

/// Optional for a key store: facts() answers backend_facts, so a scheduler can tell that
/// its clock disagrees with the backend's, or that the backend restarted (and may have
/// lost what it held).
template <class S>
concept reports_facts = requires(S& store) {
    { store.facts() } -> std::same_as<result<backend_facts, backend_error>>;
};

template <class S>
concept slot_progress = requires(S& store, std::string_view job, std::chrono::sys_seconds slot) {
    { store.last_slot(job) } -> std::same_as<result<std::optional<std::chrono::sys_seconds>, backend_error>>;
    { store.record_slot(job, slot) } -> std::same_as<result<bool, backend_error>>;
};

}  // namespace sked
