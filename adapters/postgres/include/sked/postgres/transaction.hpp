// sked/postgres/transaction.hpp — a run's writes and its completion, committed together.
//
// With the run key in the same database as the job's effects, the effects and "this
// slot is done" commit together or not at all: a replica that dies before COMMIT leaves
// neither (the slot runs again, on some replica, and finds nothing written), and one
// that dies after it leaves both (the slot is done). No idempotency by hand.
//
//     [&keys](const sked::job_context& run) {
//         auto tx = keys.begin(run);                     // BEGIN on a connection of its own
//         if (!tx) throw std::runtime_error(tx.error().message());
//         must(tx->run("INSERT INTO rewards (player, day) VALUES ($1, $2)", {player, day}));
//         auto committed = tx->commit();                // marks the run key done, COMMIT
//         if (!committed) throw std::runtime_error(committed.error().message());
//         if (!*committed) throw std::runtime_error("lease lost: nothing was written");
//     }
//
// A call that loses the connection abandons the run (job_context::abandon): the slot
// runs again once the key's lease runs out, whatever the job does with the error.
// What each failure leaves is in docs/locks.md ("A run's writes in its transaction").
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "sked/backend_error.hpp"
#include "sked/job.hpp"
#include "sked/lock.hpp"
#include "sked/one_off.hpp"
#include "sked/result.hpp"

#include "connection.hpp"
#include "pool.hpp"

namespace sked::postgres {

class run_transaction {
public:
    run_transaction(run_transaction&& other) noexcept = default;
    run_transaction& operator=(run_transaction&&) = delete;
    ~run_transaction() { rollback(); }

    /// One statement of the job's, with text parameters ($1, $2, ...), in the transaction.
    /// A statement that fails aborts the transaction (PostgreSQL's rule): commit() then
    /// fails too, and nothing is written.
    result<detail::rows_ptr, backend_error> run(const char* sql, std::span<const std::string> params = {}) {
        if (!open()) return ended_error();
        return noted(link_->run(sql, params));
    }
    result<detail::rows_ptr, backend_error> run(const char* sql, std::initializer_list<std::string> params) {
        return run(sql, std::span<const std::string>{params.begin(), params.size()});
    }

    /// Marks the run key done (kept for the `keep` begin() was given) if the run still
    /// holds it with its token (for a retry stored as a one-off: that one-off), then
    /// commits. true: the writes and the completion are
    /// durable together. false: another holder has the key (this run's lease ran out and
    /// the slot was claimed again); rolled back, nothing written. An error: rolled back,
    /// unless COMMIT itself went unanswered (the connection broke or timed out), when
    /// the outcome is unknown and the key's state says which (done, or claimable again).
    result<bool, backend_error> commit() {
        if (!open()) return ended_error();
        const std::string params[] = {key_, std::to_string(attempt_), std::to_string(fence_),
                                      std::string(stored_retry_kind), std::to_string(keep_.count())};
        auto held = noted(link_->run(complete_sql_.c_str(), params));
        if (!held || detail::text_at(**held, 0, 0) != "t") {
            rollback();
            if (!held) return held.error();
            return false;
        }
        auto committed = noted(link_->run("COMMIT"));
        ended_ = true;
        if (!committed) return committed.error();
        return true;
    }

    /// Ends the transaction with nothing written (also what the destructor does).
    void rollback() noexcept {
        if (!link_) return;
        // A dropped connection took its transaction with it: nothing to roll back.
        if (!ended_ && link_->connected()) (void)link_->run("ROLLBACK");
        ended_ = true;
        pool_->give(std::move(link_));
    }

    [[nodiscard]] const std::string& run_key() const noexcept { return key_; }
    [[nodiscard]] fence_token fence() const noexcept { return fence_; }

    /// BEGIN on a connection from `pool`, after checking the run holds its run key.
    static result<run_transaction, backend_error> begin(std::shared_ptr<detail::connection_pool> pool,
                                                        const std::string& schema, const job_context& run,
                                                        std::chrono::milliseconds keep) {
        if (auto bad = sked::detail::check_ttl("keep", keep)) return *std::move(bad);
        if (run.fence == 0)
            return backend_error{backend_errc::invalid_argument,
                                 "job " + std::string(run.job) +
                                     " runs without a run key (distribution::local, or no backend): there is no "
                                     "completion to commit with its writes"};
        run_transaction tx{std::move(pool), schema, run, keep};
        const bool was_idle = tx.link_->connected();
        auto begun = tx.link_->run("BEGIN");
        // An idle connection the server dropped (it restarted) fails at its first use;
        // BEGIN changes nothing, so it is sent once more, on a new connection.
        if (!begun && was_idle && !tx.link_->connected()) begun = tx.link_->run("BEGIN");
        if (begun = tx.noted(std::move(begun)); !begun) {
            tx.ended_ = true;
            return begun.error();
        }
        const std::string params[] = {tx.key_, std::to_string(tx.attempt_), std::to_string(tx.fence_),
                                      std::string(stored_retry_kind)};
        auto held = tx.noted(tx.link_->run(("SELECT " + schema + ".holds_run($1, $2, $3, $4)").c_str(), params));
        if (!held) return held.error();
        if (detail::text_at(**held, 0, 0) != "t")
            return backend_error{backend_errc::invalid_argument,
                                 "run key " + tx.key_ + " (attempt " + std::to_string(tx.attempt_) +
                                     ") is not held with token " + std::to_string(tx.fence_) +
                                     ": the run's lease ran out and another replica took the slot"};
        return tx;
    }

private:
    run_transaction(std::shared_ptr<detail::connection_pool> pool, const std::string& schema, const job_context& run,
                    std::chrono::milliseconds keep)
        : pool_(std::move(pool)),
          link_(pool_->take()),
          complete_sql_("SELECT " + schema + ".complete_run($1, $2, $3, $4, $5)"),
          key_(run.run_key()),
          attempt_(run.attempt),
          fence_(run.fence),
          keep_(keep),
          run_(run) {}

    // A call that lost the connection (the server went away, or did not answer within
    // transaction_timeout) took the transaction with it: nothing is known to be written,
    // or after COMMIT, the key's state says whether all of it was. The run is abandoned
    // (job_context::abandon), so the slot runs again once the key's lease runs out, and
    // finds the key done if the COMMIT made it. A statement the server refused (its
    // statement_timeout, a constraint) is the job's failure, as any other.
    template <class T>
    result<T, backend_error> noted(result<T, backend_error> answer) {
        if (!answer && !link_->connected()) run_.abandon();
        return answer;
    }

    [[nodiscard]] bool open() const noexcept { return link_ && !ended_; }
    backend_error ended_error() const {
        return {backend_errc::invalid_argument, "the transaction of " + key_ + " has ended (committed or rolled back)"};
    }

    std::shared_ptr<detail::connection_pool> pool_;
    std::unique_ptr<detail::connection> link_;
    std::string complete_sql_;
    std::string key_;
    std::uint32_t attempt_;
    fence_token fence_;
    std::chrono::milliseconds keep_;
    job_context run_;  // a copy: its abandon() reaches the scheduler's run while the run lasts
    bool ended_ = false;
};

}  // namespace sked::postgres
