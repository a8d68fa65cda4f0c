// sked/detail/claim_protocol.hpp — what each distribution mode asks of the backend: the
// claim before a run, the renewals during it, the completion or release after it, and
// the record of how far a job's slots have been handled.
//
//     mode                 claims                          after success       after failure
//     local                nothing
//     single_runner        the job's lease (name)          release it          release it
//                          (and reads the job's record: a slot it has reached is done)
//     exactly_once         the slot's run key              complete the key    release the key
//     exactly_once_serial  the job's lease, then the key   both of the above   both released
//
// This is the only code that talks to the backend for a run, and the only code that
// knows which lease's token fences a run's writes. It holds no lock and no state but
// the backend handle and the queues of run ends sent together (detail/batch_queue.hpp);
// every call here is a round trip, made off the scheduler's lock.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend_ref.hpp"
#include "../clock.hpp"
#include "../event.hpp"
#include "../idempotency.hpp"
#include "../job.hpp"
#include "../lease_guard.hpp"
#include "../lock.hpp"
#include "../one_off.hpp"
#include "../rfc3339.hpp"
#include "batch_queue.hpp"

namespace sked::detail {

/// The leases a run holds.
struct run_leases {
    std::optional<lease> key;  ///< the slot's run key (the exactly_once modes)
    std::optional<lease> lock;  ///< the job's lease (single_runner, exactly_once_serial)
    /// A retry stored in the backend: the token of the one-off that carries it (the slot's
    /// run key was completed when the retry was stored, and the one-off's lease excludes).
    fence_token stored_retry = 0;

    /// The token a run passes to its writes: the run key's, else a stored retry's, else the
    /// job lease's, else 0.
    [[nodiscard]] fence_token fence() const noexcept {
        return key ? key->fence : stored_retry != 0 ? stored_retry : lock ? lock->fence : 0;
    }
    [[nodiscard]] bool any() const noexcept { return key || lock; }
};

/// A claim's answer: go with these leases, or the slot is not run here now, and why.
struct claim_answer {
    bool go = true;
    run_leases leases;
    skip_reason why = skip_reason::none;
    std::string detail{};  ///< the backend's error, for backend_unavailable
    bool key_held = false;  ///< another holder has the run key: look again after its lease
    bool lock_held = false;  ///< another holder has the job's lease (the serial modes)
    std::chrono::milliseconds holder_left{0};  ///< held: what the holder's lease has left
};

/// Whether a holder whose lease has `left` of `ttl` looks alive. A live holder renews when
/// a third of the ttl has passed, so its lease has more than two thirds left but for a
/// round trip; with less, it missed a renewal (it died, is paused or is cut off). A holder
/// found just before its renewal may look dead: that only delays the decision to the end
/// of its lease. A backend that does not say (0) is taken at its word: alive.
constexpr bool holder_alive(std::chrono::milliseconds left, std::chrono::milliseconds ttl) noexcept {
    return left.count() == 0 || left * 3 > ttl * 2;
}

class claim_protocol {
public:
    explicit claim_protocol(backend_ref backend)
        : backend_(std::move(backend)),
          settles_(backend_.settles_in_batches() ? std::make_unique<settle_queue>(backend_) : nullptr),
          finishes_(backend_.finishes_in_batches() ? std::make_unique<finish_queue>(backend_) : nullptr) {}

    /// Whether runs of a job in `mode` claim anything (not without a backend).
    [[nodiscard]] bool claims(distribution mode) const noexcept { return backend_ && mode != distribution::local; }

    /// Where the job's handled slots have reached on the backend, so that a scheduler
    /// that was down finds the slots it missed; nothing when there is no record to
    /// read, or the job would skip missed slots anyway.
    [[nodiscard]] result<std::optional<std::chrono::sys_seconds>, backend_error> last_recorded(
        std::string_view job, const job_options& o) const {
        if (!records_progress(o.mode) || o.on_misfire == misfire::skip)
            return std::optional<std::chrono::sys_seconds>{};
        return backend_.last_slot(job);
    }

    // ---- one-off jobs: each a round trip, passed through (sked::durable_jobs) -----------
    [[nodiscard]] bool keeps_jobs() const noexcept { return backend_.keeps_jobs(); }
    /// Whether a failed attempt of a job in `mode` is retried from the backend (by any
    /// replica) rather than from this one's memory: the modes with run keys, on a backend
    /// that keeps jobs.
    [[nodiscard]] bool stores_retries(distribution mode) const noexcept {
        return claims_run_keys(mode) && keeps_jobs();
    }
    result<create_status, backend_error> create_job(const one_off_record& r) const { return backend_.create_job(r); }
    result<bool, backend_error> cancel_job(std::string_view kind, std::string_view key) const {
        return backend_.cancel_job(kind, key);
    }
    result<taken_batch, backend_error> take_jobs(std::string_view kind, instant now, std::size_t n,
                                                 std::chrono::milliseconds ttl) const {
        return backend_.take_jobs(kind, now, n, ttl);
    }
    result<bool, backend_error> renew_job(taken_job& held, std::chrono::milliseconds ttl) const {
        return backend_.renew_job(held, ttl);
    }
    result<bool, backend_error> finish_job(const taken_job& held, std::chrono::milliseconds keep) const {
        return backend_.finish_job(held, keep);
    }
    /// Whether finish_in_batch() can be used: the backend finishes one-offs in batches.
    [[nodiscard]] bool finishes_in_batch() const noexcept { return finishes_ != nullptr; }
    /// finish_job() without waiting (finishes_in_batch()): `then` gets the answer on
    /// whichever thread sends the batch, perhaps before this returns; `item` must stay
    /// valid until then.
    void finish_in_batch(const job_finish& item, std::function<void(result<bool, backend_error>)> then) const {
        finishes_->settle(item, std::move(then));
    }
    result<bool, backend_error> retry_job(const taken_job& held, instant at, std::uint32_t attempt) const {
        return backend_.retry_job(held, at, attempt);
    }
    result<bool, backend_error> release_job(const taken_job& held) const { return backend_.release_job(held); }

    [[nodiscard]] bool reports_facts() const noexcept { return backend_ && backend_.reports_facts(); }
    /// The backend's clock and identity; only when reports_facts().
    [[nodiscard]] result<backend_facts, backend_error> facts() const { return backend_.facts(); }

    /// Whether runs of a job in `mode` claim a run key per slot (the exactly_once modes).
    [[nodiscard]] bool claims_run_keys(distribution mode) const noexcept {
        return claims(mode) && (mode == distribution::exactly_once || mode == distribution::exactly_once_serial);
    }

    /// Which of `slots` of the job a holder claimed and abandoned (its lease ran out with
    /// no completion or release), so that a scheduler that starts recovers them; none on
    /// a store that cannot tell (sked::abandoned_claims). Only for claims_run_keys().
    [[nodiscard]] result<std::vector<std::chrono::sys_seconds>, backend_error> abandoned_slots(
        std::string_view job, const std::vector<std::chrono::sys_seconds>& slots) const {
        std::vector<std::chrono::sys_seconds> out;
        if (slots.empty()) return out;
        std::vector<std::string> keys;
        keys.reserve(slots.size());
        for (auto slot : slots)
            keys.push_back(run_key(job, slot));
        auto flags = backend_.abandoned(keys);
        if (!flags) return flags.error();
        for (std::size_t i = 0; i < slots.size() && i < flags->size(); ++i)
            if ((*flags)[i]) out.push_back(slots[i]);
        return out;
    }

    /// Whether the run keys of slots due together can be claimed in one round trip.
    [[nodiscard]] bool claims_in_batches() const noexcept { return backend_ && backend_.claims_in_batches(); }
    /// The run keys of many slots, in one round trip; one grant per key, for claim().
    [[nodiscard]] result<std::vector<grant>, backend_error> claim_keys(std::span<const std::string> keys,
                                                                       std::chrono::milliseconds ttl) const {
        return backend_.claim_many(keys, ttl);
    }

    /// Claims what the job's mode needs for `slot`: the run key, then the job's lease.
    /// A key taken before a refused lease is given back.
    /// A stored retry (`stored_retry`: its one-off's token) claims no run key.
    /// `key_claimed`: the run key's claim, made already in a batch (claim_keys).
    [[nodiscard]] claim_answer claim(std::string_view job, std::chrono::sys_seconds slot, const job_options& o,
                                     fence_token stored_retry = 0,
                                     std::optional<result<grant, backend_error>> key_claimed = {}) const {
        claim_answer answer;
        if (!claims(o.mode)) return answer;
        answer.leases.stored_retry = stored_retry;
        const bool needs_lock = o.mode == distribution::single_runner || o.mode == distribution::exactly_once_serial;
        const bool needs_key = claims_run_keys(o.mode) && stored_retry == 0;
        const bool reads_record = o.mode == distribution::single_runner && records_progress(o.mode);
        // The key first: a slot another replica holds (alive or dead) is told apart from
        // a job lease held for another slot, and a done slot costs no lease.
        if ((!needs_key || take(run_key(job, slot), o.lease_ttl, answer.leases.key, answer, std::move(key_claimed))) &&
            (!needs_lock || take(job, o.lease_ttl, answer.leases.lock, answer)) &&
            (!reads_record || not_handled_yet(job, slot, answer)))
            return answer;
        const bool lock_refused = needs_lock && (!needs_key || answer.leases.key.has_value());
        answer.key_held = !lock_refused && answer.why == skip_reason::held_elsewhere;
        answer.lock_held = lock_refused && answer.why == skip_reason::held_elsewhere;
        // What was taken is given back: the slot, or the job, is free again.
        if (answer.leases.key) (void)backend_.release(*answer.leases.key);
        if (answer.leases.lock) (void)backend_.release(*answer.leases.lock);
        answer.leases = {};
        answer.go = false;
        return answer;
    }

    /// A confirmation found the job's lease free: the run it saw has ended, and the slot,
    /// which came due during it, was an overlap. What it claimed to look is given back.
    [[nodiscard]] claim_answer give_back(run_leases&& held) const {
        if (held.key) (void)backend_.release(*held.key);
        if (held.lock) (void)backend_.release(*held.lock);
        return {.go = false,
                .leases = {},
                .why = skip_reason::held_elsewhere,
                .detail = "a run of the job was going on at another replica when the slot came due"};
    }

    /// Renews every lease a run holds; why one was lost (the backend refused it, or
    /// could not confirm it before it ran out), or nullopt.
    std::optional<std::string> renew(run_leases& held, std::chrono::milliseconds ttl, steady_instant now) const {
        std::optional<std::string> lost;
        for (auto* one : {&held.key, &held.lock}) {
            if (!*one) continue;
            const auto renewed = backend_.renew(**one, ttl);
            if (renewed && !*renewed) {
                lost = "lease on " + (*one)->name + " was taken";
            } else if (!renewed && now >= (*one)->valid_until) {
                lost = "lease on " + (*one)->name + " could not be confirmed: " + renewed.error().message();
            }
        }
        return lost;
    }

    /// What settling a run at the backend came to.
    struct settled {
        std::vector<std::string> failures;  ///< calls that failed
        std::optional<std::string> lost;  ///< the run's lease was another holder's by the end: why
        /// The run key's complete or release, or the slot record, failed for want of an
        /// answer (unreachable, timeout) while the key's lease lasts: worth sending again.
        bool settle_again = false;
    };

    /// The end of a run: a succeeded run completes its key (kept keep_done), any other
    /// releases it so a retry can claim it; the job's lease is released; the last
    /// attempt of a slot moves the job's record of handled slots. A lease that turns out
    /// to be another holder's (the backend says so, or it cannot say and the lease ran
    /// out at `now`, on the steady clock) is reported as lost.
    [[nodiscard]] settled settle(const run_leases& held, std::string_view job, std::chrono::sys_seconds slot,
                                 const job_options& o, bool succeeded, bool final_attempt, steady_instant now) const {
        settled out;
        // The record moves before the job's lease is let go: the next holder reads it.
        if (held.key && settles_) {  // with the ends of other runs, in one round trip
            const auto item = settlement(held, job, slot, o, succeeded, final_attempt);
            out = settled_by(held, item, settles_->settle(item), now);
        } else {
            if (held.key)
                settle_key(*held.key, succeeded,
                           succeeded ? backend_.complete(*held.key, o.keep_done) : backend_.release(*held.key), now,
                           out);
            const bool record = final_attempt && records_progress(o.mode);
            if (auto recorded = record ? backend_.record_slot(job, slot) : false; !recorded)
                recording_failed(job, recorded.error(), held, now, out);
        }
        if (held.lock) {
            if (auto freed = backend_.release(*held.lock); !freed)
                out.failures.push_back("releasing " + held.lock->name + ": " + freed.error().message());
            else if (!*freed && succeeded && !out.lost)
                out.lost = "lease on " + held.lock->name + " expired before the run returned";
        }
        return out;
    }

    /// Whether settle_in_batch() can take this run's end: it holds only its run key, and
    /// the backend settles in batches.
    [[nodiscard]] bool settles_in_batch(const run_leases& held) const noexcept {
        return settles_ && held.key && !held.lock;
    }
    /// What settle() sends for a run whose end goes in a batch.
    [[nodiscard]] key_settlement settlement(const run_leases& held, std::string_view job, std::chrono::sys_seconds slot,
                                            const job_options& o, bool succeeded, bool final_attempt) const {
        const bool record = final_attempt && records_progress(o.mode);
        return {.key = held.key ? &*held.key : nullptr,
                .completed = succeeded,
                .keep = o.keep_done,
                .job = job,
                .record = record ? std::optional{slot} : std::nullopt};
    }
    /// settle() without waiting (settles_in_batch()): `then` gets what it came to, on
    /// whichever thread sends the batch, perhaps before this returns. `held` and `item`
    /// (settlement()) must stay valid until `then` is called.
    void settle_in_batch(const run_leases& held, const key_settlement& item, steady_instant now,
                         std::function<void(settled)> then) const {
        settles_->settle(item, [&held, &item, now, then = std::move(then)](key_settled answer) {
            then(settled_by(held, item, std::move(answer), now));
        });
    }

    /// How long after a claim or renewal the next renewal is due (lease_guard's rule).
    static std::chrono::milliseconds renew_interval(std::chrono::milliseconds ttl) {
        return renewal{.ttl = ttl}.interval<std::chrono::milliseconds>();
    }
    /// How soon a claim that failed at the backend `failed_before` times already is tried
    /// again: first as often as a renewal, at most once a second, so a blip of the backend
    /// loses no slot; then doubling, up to 8 s, so an outage is not hammered.
    static std::chrono::milliseconds claim_retry_delay(std::chrono::milliseconds ttl, unsigned failed_before = 0) {
        const auto first = std::min<std::chrono::milliseconds>(renew_interval(ttl), std::chrono::seconds{1});
        return std::min<std::chrono::milliseconds>(first * (1LL << std::min(failed_before, 4U)),
                                                   std::chrono::seconds{8});
    }
    /// How soon a slot waiting for a live holder's job lease (overlap::queue_one) looks
    /// again, after `looks` looks: between half and all of claim_retry_delay, varied
    /// from look to look (a golden-ratio sequence). A fixed 1 s beside a per-second job
    /// looked at the lease in the same phase of every second, always while the other
    /// replica ran that second's slot, and never found it free.
    static std::chrono::milliseconds lock_wait_delay(std::chrono::milliseconds ttl, std::uint16_t looks) {
        const auto base = claim_retry_delay(ttl);
        const auto share = 512 + (std::uint32_t{looks} * 317) % 512;  // of 1024
        return base * share / 1024;
    }
    /// When a job lease that looked alive is looked at again: just after a live holder
    /// must have renewed it, so that a holder that died since is found out.
    static std::chrono::milliseconds confirm_delay(std::chrono::milliseconds ttl,
                                                   std::chrono::milliseconds left = std::chrono::milliseconds{0}) {
        const auto until_renewed = (left.count() > 0 ? std::min(left, ttl) : ttl) - (ttl - renew_interval(ttl));
        return std::max(until_renewed, std::chrono::milliseconds{0}) +
               std::min<std::chrono::milliseconds>(ttl / 10, std::chrono::seconds{1});
    }
    /// When a slot held by another replica is looked at again: once its holder's lease
    /// has run out (in case it died), with a margin for clock drift. `left` is what the
    /// lease had left when it was found held, when the backend says (else the whole ttl).
    static std::chrono::milliseconds recheck_delay(std::chrono::milliseconds ttl,
                                                   std::chrono::milliseconds left = std::chrono::milliseconds{0}) {
        const auto wait = left.count() > 0 ? std::min(left, ttl) : ttl;
        return wait + std::min<std::chrono::milliseconds>(ttl / 10, std::chrono::seconds{1});
    }

private:
    [[nodiscard]] bool records_progress(distribution mode) const noexcept {
        return claims(mode) && backend_.records_progress();
    }

    // single_runner: the job's lease excludes, and the record of handled slots, read under
    // it, deduplicates. The holder moves the record before it lets the lease go, so a
    // replica that waited for the lease finds the slot run. False, with the reason in
    // `answer`, when the record has reached `slot`.
    bool not_handled_yet(std::string_view job, std::chrono::sys_seconds slot, claim_answer& answer) const {
        const auto recorded = backend_.last_slot(job);
        if (!recorded) {
            answer.why = skip_reason::backend_unavailable;
            answer.detail = recorded.error().message();
        } else if (*recorded && **recorded >= slot) {
            answer.why = skip_reason::already_done;
            answer.detail = **recorded == slot ? "the slot ran at another replica"
                                               : "a later slot, " + rfc3339(**recorded) + ", ran at another replica";
        }
        return answer.why == skip_reason::none;
    }

    // One claim into `into`; false, with the reason in `answer`, when it was not acquired.
    // `made`: the claim, when it was made already.
    bool take(std::string_view name, std::chrono::milliseconds ttl, std::optional<lease>& into, claim_answer& answer,
              std::optional<result<grant, backend_error>> made = {}) const {
        auto granted = made ? *std::move(made) : backend_.claim(name, ttl);
        if (!granted) {
            answer.why = skip_reason::backend_unavailable;
            answer.detail = granted.error().message();
        } else if (granted->acquired()) {
            into = std::move(granted->lease);
        } else {
            answer.why =
                granted->status == grant_status::already_done ? skip_reason::already_done : skip_reason::held_elsewhere;
            answer.holder_left = granted->holder_left;
        }
        return answer.why == skip_reason::none;
    }

    // What a batch's answer to one run's end came to.
    static settled settled_by(const run_leases& held, const key_settlement& item, key_settled answer,
                              steady_instant now) {
        settled out;
        settle_key(*held.key, item.completed, std::move(answer.key), now, out);
        if (!answer.recorded) recording_failed(item.job, answer.recorded.error(), held, now, out);
        return out;
    }

    // What the backend answered to a run key's complete (succeeded) or release.
    static void settle_key(const lease& key, bool succeeded, const result<bool, backend_error>& done,
                           steady_instant now, settled& out) {
        if (!done) out.settle_again = out.settle_again || worth_again(done.error(), key, now);
        if (!succeeded) {
            if (!done) out.failures.push_back("releasing " + key.name + ": " + done.error().message());
            return;
        }
        if (done && !*done) {
            out.lost = "another holder claimed " + key.name + " after this run's lease ran out";
        } else if (!done) {
            out.failures.push_back("completing " + key.name + ": " + done.error().message());
            if (now >= key.valid_until)
                out.lost = "the lease on " + key.name +
                           " ran out before the run returned, and the backend could not "
                           "confirm the completion";
        }
    }

    static void recording_failed(std::string_view job, const backend_error& why, const run_leases& held,
                                 steady_instant now, settled& out) {
        out.failures.push_back("recording slot of " + std::string(job) + ": " + why.message());
        if (held.key) out.settle_again = out.settle_again || worth_again(why, *held.key, now);
    }

    // A settle the backend did not answer may take if sent again, and the key's lease
    // still keeps other replicas off the slot meanwhile. Each settle is idempotent for
    // its holder: a completion that did reach the backend completes again.
    static bool worth_again(const backend_error& why, const lease& key, steady_instant now) {
        return (why.code == backend_errc::unreachable || why.code == backend_errc::timeout) && now < key.valid_until;
    }

    backend_ref backend_;
    std::unique_ptr<settle_queue> settles_;  // when the backend settles in batches
    std::unique_ptr<finish_queue> finishes_;  // when it finishes one-offs in batches
};

}  // namespace sked::detail
