// sked/memory_jobs.hpp — durable one-off jobs (sked::durable_jobs) in this process's
// memory, with the semantics of the Redis backend: what sked::memory_keys offers.
//
// "Durable" only as long as the process: every scheduler that shares the object (the
// replicas of a test or an example) sees the same jobs, but nothing survives the process.
// Due times are on the callers' wall clock (take_jobs' `now`); leases and the time a
// finished key is remembered are on the lease clock, which a test can inject.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "sked/backend_error.hpp"
#include "sked/lock.hpp"
#include "sked/one_off.hpp"
#include "sked/result.hpp"

namespace sked::detail {

class memory_job_queue {
public:
    using clock_function = std::function<lease_clock::time_point()>;

    explicit memory_job_queue(clock_function clock, fence_token first_fence)
        : clock_(std::move(clock)), last_fence_(first_fence) {}

    result<create_status, backend_error> create(const one_off_record& r) {
        if (auto bad = problem_with(r)) return *std::move(bad);
        std::lock_guard hold{mutex_};
        auto& q = queues_[std::string(r.kind)];
        forget_done(q);
        if (auto found = q.jobs.find(r.key); found != q.jobs.end())
            return found->second.done ? create_status::done : create_status::exists;
        auto& job = q.jobs[std::string(r.key)];
        job.slot = r.slot;
        job.run_at = r.run_at;
        job.payload.assign(r.payload);
        q.due.insert({ms(r.run_at), std::string(r.key)});
        return create_status::created;
    }

    result<bool, backend_error> cancel(std::string_view kind, std::string_view key) {
        std::lock_guard hold{mutex_};
        auto* q = queue_of(kind);
        if (q == nullptr) return false;
        const auto found = q->jobs.find(key);
        if (found == q->jobs.end() || found->second.done) return false;
        unlink(*q, found->first, found->second);
        q->jobs.erase(found);
        return true;
    }

    result<taken_batch, backend_error> take(std::string_view kind, instant now, std::size_t n,
                                            std::chrono::milliseconds ttl) {
        if (auto bad = check_ttl("ttl", ttl)) return *std::move(bad);
        std::lock_guard hold{mutex_};
        taken_batch out;
        auto* q = queue_of(kind);
        if (q == nullptr) return out;
        const auto clock_now = clock_();
        forget_done(*q);
        // A taker whose lease ran out died or stalled: its jobs go first, as they were.
        while (out.jobs.size() < n && !q->flight.empty() && q->flight.begin()->first <= clock_now) {
            const auto key = q->flight.begin()->second;
            hand_out(*q, q->jobs.find(key), clock_now, ttl, kind, out);
        }
        while (out.jobs.size() < n && !q->due.empty() && q->due.begin()->first <= ms(now)) {
            const auto key = q->due.begin()->second;
            hand_out(*q, q->jobs.find(key), clock_now, ttl, kind, out);
        }
        out.left = {q->due.size(), q->flight.size(), {}};
        if (!q->due.empty()) out.left.next_due = instant{std::chrono::milliseconds{q->due.begin()->first}};
        return out;
    }

    result<bool, backend_error> renew(taken_job& held, std::chrono::milliseconds ttl) {
        if (auto bad = check_ttl("ttl", ttl)) return *std::move(bad);
        std::lock_guard hold{mutex_};
        auto* job = held_job(held);
        if (job == nullptr || job->deadline <= clock_()) return false;
        auto& q = *queue_of(held.kind);
        q.flight.erase({job->deadline, held.key});
        job->deadline = clock_() + ttl;
        q.flight.insert({job->deadline, held.key});
        held.lease.valid_until = job->deadline;
        return true;
    }

    result<bool, backend_error> finish(const taken_job& held, std::chrono::milliseconds keep) {
        if (auto bad = check_ttl("keep", keep)) return *std::move(bad);
        std::lock_guard hold{mutex_};
        auto* job = held_job(held);
        if (job == nullptr) return false;
        auto& q = *queue_of(held.kind);
        unlink(q, held.key, *job);
        *job = {};
        job->done = true;
        job->deadline = clock_() + keep;
        q.done.insert({job->deadline, held.key});
        return true;
    }

    result<bool, backend_error> reschedule(const taken_job& held, instant at, std::uint32_t attempt) {
        std::lock_guard hold{mutex_};
        auto* job = held_job(held);
        if (job == nullptr) return false;
        auto& q = *queue_of(held.kind);
        unlink(q, held.key, *job);
        job->owner.clear();
        job->attempt = attempt;
        job->run_at = at;
        q.due.insert({ms(at), held.key});
        return true;
    }

    /// Jobs stored (pending, running, or remembered as done) over every kind.
    std::size_t size() {
        std::lock_guard hold{mutex_};
        std::size_t n = 0;
        for (auto& [kind, q] : queues_) {
            forget_done(q);
            n += q.jobs.size();
        }
        return n;
    }

private:
    struct job_state {
        std::chrono::sys_seconds slot{};
        instant run_at{};
        std::string payload;
        std::uint32_t attempt = 1;
        std::string owner;  // empty: pending
        fence_token fence = 0;
        lease_clock::time_point deadline{};  // the lease's end, or how long a done key is kept
        bool done = false;
    };
    using job_map = std::map<std::string, job_state, std::less<>>;
    struct queue {
        job_map jobs;
        std::set<std::pair<std::int64_t, std::string>> due;  // (run_at ms, key)
        std::set<std::pair<lease_clock::time_point, std::string>> flight;  // (lease deadline, key)
        std::set<std::pair<lease_clock::time_point, std::string>> done;  // (kept until, key)
    };

    static std::int64_t ms(instant t) { return t.time_since_epoch().count(); }

    queue* queue_of(std::string_view kind) {
        const auto found = queues_.find(kind);
        return found == queues_.end() ? nullptr : &found->second;
    }

    job_state* held_job(const taken_job& held) {
        auto* q = queue_of(held.kind);
        if (q == nullptr) return nullptr;
        const auto found = q->jobs.find(held.key);
        if (found == q->jobs.end() || found->second.done || found->second.owner != held.lease.owner) return nullptr;
        return &found->second;
    }

    // Takes the job out of the due or in-flight index it is in.
    static void unlink(queue& q, const std::string& key, const job_state& job) {
        if (job.owner.empty()) {
            q.due.erase({ms(job.run_at), key});
        } else {
            q.flight.erase({job.deadline, key});
        }
    }

    void hand_out(queue& q, job_map::iterator found, lease_clock::time_point clock_now, std::chrono::milliseconds ttl,
                  std::string_view kind, taken_batch& out) {
        auto& [key, job] = *found;
        unlink(q, key, job);
        job.fence = ++last_fence_;
        job.owner = "m" + std::to_string(job.fence);
        job.deadline = clock_now + ttl;
        q.flight.insert({job.deadline, key});
        out.jobs.push_back({std::string(kind), key, job.payload, job.slot, job.run_at, job.attempt,
                            lease{key, job.owner, job.fence, job.deadline}});
    }

    void forget_done(queue& q) {
        const auto now = clock_();
        while (!q.done.empty() && q.done.begin()->first <= now) {
            q.jobs.erase(q.done.begin()->second);
            q.done.erase(q.done.begin());
        }
    }

    clock_function clock_;
    fence_token last_fence_;
    std::mutex mutex_;
    std::map<std::string, queue, std::less<>> queues_;
};

}  // namespace sked::detail
