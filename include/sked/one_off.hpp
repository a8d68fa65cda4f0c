// sked/one_off.hpp — durable one-off jobs: created at run time on any replica, kept in
// the backend, run once on some replica when due, also when their creator is gone.
//
//     // every replica, at boot: who handles a kind
//     s.on("expire_node", [](const sked::one_off_context& c) { expire(c.key, c.payload, c.fence); });
//     // any replica, at run time: a job of that kind
//     s.create({.kind = "expire_node", .key = "node-42", .due = now + 48h, .payload = "campaign=7"});
//
// A job is identified by (kind, key). Creating a key that is pending or running is
// refused (create_status::exists, nothing changes); so is one that finished within its
// kind's keep_done (create_status::done), so a caller that retries its create cannot
// make the job run twice. This header holds the types and the concept a backend
// satisfies (sked::durable_jobs); the memory and Redis backends implement it, and
// sked::scheduler runs the jobs (docs/one-offs.md).
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "backend_error.hpp"
#include "calendar.hpp"
#include "clock.hpp"
#include "idempotency.hpp"
#include "job.hpp"
#include "lock.hpp"
#include "result.hpp"

namespace sked {

/// The largest payload a one-off job may carry. A payload is stored once per pending job
/// and read at every take, so it is meant for an id and a few fields, not a document.
inline constexpr std::size_t max_payload_bytes = 64 * 1024;

/// The one-off kind under which retries of scheduled slots are kept in the backend:
/// key "<run key>#<attempt>" (scheduler.hpp, "retries kept in the backend").
inline constexpr std::string_view stored_retry_kind = "sked.retry";

/// What scheduler::create asks for.
struct one_off_request {
    std::string kind;  ///< which handler runs it (scheduler::on)
    std::string key;  ///< unique within the kind while pending, running, or kept as done
    std::chrono::sys_seconds due{};  ///< when; also the job's slot (its run key)
    std::string payload{};  ///< bytes handed to the handler; at most max_payload_bytes
    /// When set, a due time outside the calendar is moved to the next instant it allows
    /// (the slot stays `due`).
    std::optional<sked::calendar> calendar{};
};

enum class create_status : std::uint8_t {
    created,  ///< stored; it will run once
    exists,  ///< a job with this kind and key is pending or running: nothing changed
    done,  ///< one with this kind and key finished within keep_done: nothing changed
};

constexpr std::string_view to_string(create_status s) noexcept {
    constexpr std::string_view names[] = {"created", "exists", "done"};
    return names[static_cast<unsigned>(s)];
}

/// What a backend stores for a one-off job when it is created.
struct one_off_record {
    std::string_view kind, key;
    std::chrono::sys_seconds slot;  ///< the due time asked for: the run key's instant
    instant run_at;  ///< when it may be taken (slot, moved by a calendar or a retry)
    std::string_view payload;
};

/// A job taken from the backend: it is this taker's until the lease runs out.
struct taken_job {
    std::string kind, key, payload;
    std::chrono::sys_seconds slot{};
    instant run_at{};  ///< when it was due to be taken
    std::uint32_t attempt = 1;
    sked::lease lease;  ///< name: the key; renew it while the job runs
};

/// A kind's queue as the backend saw it at the last take.
struct queue_summary {
    std::uint64_t pending = 0;  ///< waiting to come due (retries included)
    std::uint64_t in_flight = 0;  ///< taken, with a lease
    std::optional<instant> next_due{};  ///< the earliest run_at among the pending
};

/// A take: the jobs, and what is left behind them.
struct taken_batch {
    std::vector<taken_job> jobs;
    queue_summary left;
};

/// What sked needs from a backend to keep one-off jobs. Every call is atomic on the
/// store:
///   create_job(record)          created, exists or done (see create_status)
///   cancel_job(kind, key)       true when a pending or running job was removed (a run
///                               in progress is not stopped; its finish answers false)
///   take_jobs(kind, now, n, ttl) up to n jobs with run_at <= now, and jobs whose taker's
///                               lease ran out (its holder died), each with a lease of
///                               `ttl` and a fencing token higher than any before it
///   renew_job(job, ttl)         keeps the lease; false when it is not the taker's any more
///   finish_job(job, keep)       removes the job, remembered as done for `keep`
///   retry_job(job, at, attempt) back to pending, due at `at`, as attempt `attempt`
///   release_job(job)            back to pending as it was (the taker stopped before running it)
/// finish, retry and release answer false when the job is not the taker's any more
/// (cancelled, or taken again after the lease ran out).
template <class S>
concept durable_jobs = requires(S& store, const one_off_record& record, std::string_view kind, std::string_view key,
                                instant now, std::size_t n, std::chrono::milliseconds ttl, taken_job& held,
                                const taken_job& finished, std::uint32_t attempt) {
    { store.create_job(record) } -> std::same_as<result<create_status, backend_error>>;
    { store.cancel_job(kind, key) } -> std::same_as<result<bool, backend_error>>;
    { store.take_jobs(kind, now, n, ttl) } -> std::same_as<result<taken_batch, backend_error>>;
    { store.renew_job(held, ttl) } -> std::same_as<result<bool, backend_error>>;
    { store.finish_job(finished, ttl) } -> std::same_as<result<bool, backend_error>>;
    { store.retry_job(finished, now, attempt) } -> std::same_as<result<bool, backend_error>>;
    { store.release_job(finished) } -> std::same_as<result<bool, backend_error>>;
};

/// One finish of a batch: finish_job(*job, keep).
struct job_finish {
    const taken_job* job = nullptr;
    std::chrono::milliseconds keep{0};
};

/// Optional for a store with durable_jobs: the finishes of many one-offs in one round
/// trip (a database commits them together).
///   finish_jobs(batch)     finish_job's answer for each item, in order; an error means
///                          the round trip failed (which items took effect is unknown)
/// The scheduler sends the finishes of one-offs that end together with it.
template <class S>
concept batch_finishes = durable_jobs<S> && requires(S& store, std::span<const job_finish> batch) {
    { store.finish_jobs(batch) } -> std::same_as<result<std::vector<result<bool, backend_error>>, backend_error>>;
};

/// What a one-off job's handler is told.
struct one_off_context {
    std::string_view kind, key, payload;
    std::chrono::sys_seconds slot;  ///< the due time it was created with
    instant started;
    std::uint32_t attempt = 1;
    fence_token fence = 0;  ///< pass with every write
    std::stop_token stop;  ///< stopped on lease loss or shutdown

    /// "<kind>/<key>@<slot RFC 3339>": the same on every replica and every attempt.
    [[nodiscard]] std::string run_key() const {
        std::string name{kind};
        name.append("/").append(key);
        return sked::run_key(name, slot);
    }
    [[nodiscard]] bool stop_requested() const noexcept { return stop.stop_requested(); }
};

/// A kind's handler. Returning is success; throwing is a failed attempt.
using one_off_function = std::function<void(const one_off_context&)>;

/// How a kind's jobs run on this replica.
struct one_off_options {
    std::chrono::milliseconds lease_ttl{30'000};  ///< the taker's lease, renewed at a third
    retry_policy retry{};  ///< a failed attempt with attempts left runs again, on any replica
    std::chrono::hours keep_done{24};  ///< how long a finished key refuses to be created again
    std::uint32_t batch = 256;  ///< the most jobs one take asks for
    std::uint32_t max_running = 1024;  ///< the most of this kind running here at once
    /// When set, a job of this kind starts only inside it: one taken outside it (a retry
    /// whose back-off ended after hours, or a job taken again after its taker died) is
    /// put back, due at the next instant the calendar allows, as the same attempt.
    std::optional<sked::calendar> calendar{};

    friend bool operator==(const one_off_options&, const one_off_options&) = default;
};

/// A kind as this replica sees it: its queue at the last take, and its runs here.
struct one_off_kind_status {
    std::string kind;
    queue_summary queue;
    std::uint32_t running = 0;
    std::uint64_t started = 0, succeeded = 0, failed = 0, retried = 0, lost = 0;
};

namespace detail {

/// Why `kind` cannot name a kind of one-off jobs, or nothing.
inline std::optional<backend_error> problem_with_kind(std::string_view kind) {
    if (auto bad = check_name("one-off kind", kind)) return bad;
    for (char c : kind)
        if (c == '{' || c == '}' || c == '/')
            return backend_error{backend_errc::invalid_argument, "one-off kind '" + std::string(kind) + "' contains '" +
                                                                     std::string(1, c) +
                                                                     "' (kinds may not contain {, } or /)"};
    return std::nullopt;
}

/// Why a one-off request cannot be stored, or nothing.
inline std::optional<backend_error> problem_with(const one_off_record& r) {
    if (auto bad = problem_with_kind(r.kind)) return bad;
    if (auto bad = check_name("one-off key", r.key)) return bad;
    if (r.payload.size() > max_payload_bytes)
        return backend_error{backend_errc::invalid_argument,
                             "one-off " + std::string(r.kind) + "/" + std::string(r.key) + ": payload of " +
                                 std::to_string(r.payload.size()) + " bytes is larger than the limit of " +
                                 std::to_string(max_payload_bytes)};
    return std::nullopt;
}

}  // namespace detail
}  // namespace sked
