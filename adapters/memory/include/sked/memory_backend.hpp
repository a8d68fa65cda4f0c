// sked/memory_backend.hpp — locks and a key store in this process's memory.
//
// The embedded default for a single-process service, for tests and for the examples.
// Thread-safe (one mutex per object); the lease clock can be injected so a test expires
// a lease by moving time instead of sleeping:
//
//     auto now = sked::lease_clock::time_point{};
//     sked::memory_keys keys{[&] { return now; }};
//     keys.claim(key, 30s);  now += 31s;  keys.claim(key, 30s);   // acquired again
//
// What holds: at most one valid lease per name; fencing tokens grow strictly across all
// names of one object (so per name too), and start at the wall clock in microseconds,
// so a restarted process issues higher tokens than the one before it unless that one
// issued more than one token per microsecond of its life. Nothing survives the
// process: a service that restarts forgets completed keys (use Redis for that).
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sked/backend_error.hpp"
#include "sked/idempotency.hpp"
#include "sked/lock.hpp"
#include "sked/memory_jobs.hpp"
#include "sked/one_off.hpp"
#include "sked/result.hpp"

namespace sked {

/// Reads the lease clock. The default is lease_clock::now.
using lease_clock_function = std::function<lease_clock::time_point()>;

namespace detail {

struct transparent_string_hash {
    using is_transparent = void;
    // Deliberately not noexcept: libstdc++ then keeps each key's hash in its node, so
    // sweeps and rehashes never hash a key again (a third of a claim's cost otherwise).
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

/// Named leases that can be marked done: a lock is a claim that is never completed.
class memory_table {
public:
    /// `abandoned_memory`: how long a claim whose lease ran out unsettled is remembered
    /// after it, for abandoned(); other expired records are forgotten at once.
    explicit memory_table(lease_clock_function clock, std::chrono::milliseconds abandoned_memory = {})
        : clock_(std::move(clock)), abandoned_memory_(abandoned_memory), last_fence_(wall_clock_us()) {
        if (!clock_) clock_ = [] { return lease_clock::now(); };
    }

    result<grant, backend_error> claim(std::string_view what, std::string_view name, std::chrono::milliseconds ttl) {
        if (auto bad = check_name(what, name)) return *std::move(bad);
        if (auto bad = check_ttl("ttl", ttl)) return *std::move(bad);
        std::lock_guard hold{mutex_};
        const auto now = clock_();
        sweep_now_and_then(now);
        auto found = records_.find(name);
        if (found != records_.end() && found->second.until > now) {
            return grant{found->second.done ? grant_status::already_done : grant_status::held_elsewhere,
                         {},
                         std::chrono::ceil<std::chrono::milliseconds>(found->second.until - now)};
        }
        ++last_fence_;
        record fresh{owner_token(last_fence_), last_fence_, now + ttl, false};
        if (found != records_.end()) {
            found->second = std::move(fresh);
        } else {
            found = insert(name, std::move(fresh));
        }
        const record& mine = found->second;
        return grant{grant_status::acquired, lease{found->first, mine.owner, mine.fence, mine.until}};
    }

    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) {
        if (auto bad = check_ttl("ttl", ttl)) return *std::move(bad);
        std::lock_guard hold{mutex_};
        const auto now = clock_();
        record* mine = valid_record_of(held, now);
        if (mine == nullptr) return false;
        mine->until = now + ttl;
        held.valid_until = mine->until;
        return true;
    }

    result<bool, backend_error> release(const lease& held) {
        std::lock_guard hold{mutex_};
        if (valid_record_of(held, clock_()) == nullptr) return false;
        records_.erase(held.name);
        return true;
    }

    result<bool, backend_error> complete(const lease& held, std::chrono::milliseconds keep_for) {
        if (auto bad = check_ttl("keep_for", keep_for)) return *std::move(bad);
        std::lock_guard hold{mutex_};
        const auto now = clock_();
        auto found = records_.find(held.name);
        if (found == records_.end()) {
            // Expired and forgotten, and nobody claimed it since: the work is done.
            records_.emplace(held.name, record{held.owner, held.fence, now + keep_for, true});
            return true;
        }
        record& existing = found->second;
        const bool someone_else_claimed = existing.owner != held.owner;
        if (someone_else_claimed && (existing.done || existing.until > now)) return false;
        existing = record{held.owner, held.fence, now + keep_for, true};
        return true;
    }

    /// For each name: claimed, and its lease ran out with no completion or release.
    std::vector<bool> abandoned(std::span<const std::string> names) {
        std::lock_guard hold{mutex_};
        const auto now = clock_();
        std::vector<bool> out;
        out.reserve(names.size());
        for (const auto& name : names) {
            const auto found = records_.find(name);
            out.push_back(found != records_.end() && !found->second.done && found->second.until <= now);
        }
        return out;
    }

    /// Records still remembered (valid leases and done keys), after forgetting the rest.
    std::size_t size() {
        std::lock_guard hold{mutex_};
        forget_expired(clock_());
        return records_.size();
    }

    /// Records in memory now, expired or not (for tests of the sweep).
    std::size_t stored() {
        std::lock_guard hold{mutex_};
        return records_.size();
    }

private:
    struct record {
        std::string owner;
        fence_token fence = 0;
        lease_clock::time_point until{};  // lease expiry, or the end of a done key's retention
        bool done = false;
    };
    using record_map = std::unordered_map<std::string, record, transparent_string_hash, std::equal_to<>>;

    record* valid_record_of(const lease& held, lease_clock::time_point now) {
        auto found = records_.find(held.name);
        if (found == records_.end()) return nullptr;
        record& existing = found->second;
        if (existing.done || existing.owner != held.owner || existing.until <= now) return nullptr;
        return &existing;
    }

    // Expired records are forgotten in a sweep after as many claims as there were
    // records left by the last sweep: memory stays within twice the live records, at
    // an amortised constant cost per claim.
    void sweep_now_and_then(lease_clock::time_point now) {
        if (++claims_since_sweep_ >= claims_between_sweeps_) forget_expired(now);
    }

    // Expired nodes are kept (up to the number of live records) and reused for new
    // names: a steady stream of claims then allocates nothing in the map, where
    // malloc and free were a third of a claim's instructions.
    void forget_expired(lease_clock::time_point now) {
        for (auto entry = records_.begin(); entry != records_.end();) {
            const auto next = std::next(entry);
            // An abandoned claim is kept a while, so a scheduler that starts can find it.
            const auto forget_at =
                entry->second.until + (entry->second.done ? lease_clock::duration{} : abandoned_memory_);
            if (forget_at <= now) spare_nodes_.push_back(records_.extract(entry));
            entry = next;
        }
        claims_since_sweep_ = 0;
        claims_between_sweeps_ = std::max<std::size_t>(1024, records_.size());
        if (spare_nodes_.size() > claims_between_sweeps_) spare_nodes_.resize(claims_between_sweeps_);
    }

    record_map::iterator insert(std::string_view name, record&& fresh) {
        if (spare_nodes_.empty()) return records_.emplace(std::string(name), std::move(fresh)).first;
        auto node = std::move(spare_nodes_.back());
        spare_nodes_.pop_back();
        node.key().assign(name);  // reuses the key's buffer when it is long enough
        node.mapped() = std::move(fresh);
        return records_.insert(std::move(node)).position;
    }

public:
    static std::uint64_t wall_clock_us() {
        using namespace std::chrono;
        return static_cast<std::uint64_t>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
    }

private:
    // Tokens are unique per object, so the token doubles as the owner; 15 hex digits
    // (60 bits) fit std::string's small-string buffer.
    static std::string owner_token(fence_token fence) {
        std::string text(15, '0');
        for (auto digit = text.rbegin(); digit != text.rend() && fence != 0; ++digit, fence >>= 4) {
            *digit = "0123456789abcdef"[fence & 0xf];
        }
        return text;
    }

    lease_clock_function clock_;
    std::chrono::milliseconds abandoned_memory_;
    // Global to the object, so strictly increasing per name even for forgotten names;
    // it starts at the wall clock in µs (sked::detail::next_fence's floor), which a
    // restarted process has passed.
    fence_token last_fence_;
    std::mutex mutex_;
    record_map records_;
    std::vector<record_map::node_type> spare_nodes_;
    std::size_t claims_since_sweep_ = 0;
    std::size_t claims_between_sweeps_ = 1024;
};

}  // namespace detail

/// A sked::lock_backend in memory.
class memory_locks {
public:
    explicit memory_locks(lease_clock_function clock = {}) : table_(std::move(clock)) {}

    result<grant, backend_error> try_lock(std::string_view name, std::chrono::milliseconds ttl) {
        return table_.claim("lock name", name, ttl);
    }
    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) { return table_.renew(held, ttl); }
    result<bool, backend_error> unlock(const lease& held) { return table_.release(held); }

    /// Locks currently held.
    std::size_t size() { return table_.size(); }

private:
    detail::memory_table table_;
};

/// A sked::key_store in memory.
class memory_keys {
public:
    /// How long a claim abandoned by a dead holder is remembered for abandoned(): longer
    /// than a job's lease_ttl + grace, the window a starting scheduler looks back over.
    static constexpr std::chrono::minutes abandoned_memory{10};

    explicit memory_keys(lease_clock_function clock = {})
        : table_(clock, abandoned_memory),
          jobs_(clock ? clock : lease_clock_function{[] { return lease_clock::now(); }},
                detail::memory_table::wall_clock_us()) {}

    result<grant, backend_error> claim(std::string_view key, std::chrono::milliseconds ttl) {
        return table_.claim("key", key, ttl);
    }
    /// sked::batch_claims: every key checked, then each claimed in order.
    result<std::vector<grant>, backend_error> claim_many(std::span<const std::string> keys,
                                                         std::chrono::milliseconds ttl) {
        if (auto bad = detail::check_names("key", keys)) return *std::move(bad);
        if (auto bad = detail::check_ttl("ttl", ttl)) return *std::move(bad);
        std::vector<grant> grants;
        grants.reserve(keys.size());
        for (const auto& key : keys)
            grants.push_back(*table_.claim("key", key, ttl));  // checked: it cannot fail
        return grants;
    }
    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) { return table_.renew(held, ttl); }
    result<bool, backend_error> complete(const lease& held, std::chrono::milliseconds keep_for) {
        return table_.complete(held, keep_for);
    }
    result<bool, backend_error> release(const lease& held) { return table_.release(held); }
    /// sked::abandoned_claims: claimed keys whose lease ran out unsettled (kept abandoned_memory).
    result<std::vector<bool>, backend_error> abandoned(std::span<const std::string> keys) {
        return table_.abandoned(keys);
    }

    /// sked::batch_settles: each item as complete() or release(), then record_slot().
    result<std::vector<key_settled>, backend_error> settle_many(std::span<const key_settlement> batch) {
        std::vector<key_settled> out;
        out.reserve(batch.size());
        for (const auto& item : batch) {
            auto& answer = out.emplace_back();
            answer.key = item.completed ? complete(*item.key, item.keep) : release(*item.key);
            if (item.record) answer.recorded = record_slot(item.job, *item.record);
        }
        return out;
    }

    /// Keys remembered: claimed with a valid lease, or done within their retention.
    std::size_t size() { return table_.size(); }

    /// Slot progress (sked::slot_progress): the latest slot recorded for `job`.
    result<std::optional<std::chrono::sys_seconds>, backend_error> last_slot(std::string_view job) {
        std::lock_guard hold{slots_mutex_};
        const auto found = slots_.find(job);
        if (found == slots_.end()) return std::optional<std::chrono::sys_seconds>{};
        return std::optional{found->second};
    }
    result<bool, backend_error> record_slot(std::string_view job, std::chrono::sys_seconds slot) {
        if (auto bad = detail::check_name("job", job)) return *std::move(bad);
        std::lock_guard hold{slots_mutex_};
        auto found = slots_.find(job);
        if (found == slots_.end()) {
            slots_.emplace(std::string(job), slot);
            return true;
        }
        if (found->second >= slot) return false;
        found->second = slot;
        return true;
    }

    /// sked::durable_jobs: one-off jobs, shared by every scheduler using this object.
    result<create_status, backend_error> create_job(const one_off_record& r) { return jobs_.create(r); }
    result<bool, backend_error> cancel_job(std::string_view kind, std::string_view key) {
        return jobs_.cancel(kind, key);
    }
    result<taken_batch, backend_error> take_jobs(std::string_view kind, instant now, std::size_t n,
                                                 std::chrono::milliseconds ttl) {
        return jobs_.take(kind, now, n, ttl);
    }
    result<bool, backend_error> renew_job(taken_job& held, std::chrono::milliseconds ttl) {
        return jobs_.renew(held, ttl);
    }
    result<bool, backend_error> finish_job(const taken_job& held, std::chrono::milliseconds keep) {
        return jobs_.finish(held, keep);
    }
    /// sked::batch_finishes: each item as finish_job().
    result<std::vector<result<bool, backend_error>>, backend_error> finish_jobs(std::span<const job_finish> batch) {
        std::vector<result<bool, backend_error>> out;
        out.reserve(batch.size());
        for (const auto& item : batch)
            out.push_back(finish_job(*item.job, item.keep));
        return out;
    }
    result<bool, backend_error> retry_job(const taken_job& held, instant at, std::uint32_t attempt) {
        return jobs_.reschedule(held, at, attempt);
    }
    result<bool, backend_error> release_job(const taken_job& held) {
        return jobs_.reschedule(held, held.run_at, held.attempt);
    }
    /// One-off jobs stored: pending, running, or remembered as done.
    std::size_t stored_jobs() { return jobs_.size(); }

private:
    detail::memory_table table_;
    detail::memory_job_queue jobs_;
    std::mutex slots_mutex_;
    std::unordered_map<std::string, std::chrono::sys_seconds, detail::transparent_string_hash, std::equal_to<>> slots_;
};

static_assert(lock_backend<memory_locks>);
static_assert(key_store<memory_keys> && batch_claims<memory_keys> && batch_settles<memory_keys> &&
              slot_progress<memory_keys> && durable_jobs<memory_keys> && batch_finishes<memory_keys>);

}  // namespace sked
