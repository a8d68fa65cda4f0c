// sked/backend_ref.hpp — the scheduler's handle on a key store (in-memory, Redis, yours).
//
//     sked::memory_keys keys;                       // outlives the scheduler
//     sked::scheduler s{{.backend = sked::backend_ref{keys}}};
//
// Any sked::key_store works; one that is also a sked::slot_progress lets a restarted
// scheduler find the slots it missed while every replica was down.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend_error.hpp"
#include "idempotency.hpp"
#include "lock.hpp"
#include "one_off.hpp"
#include "result.hpp"

namespace sked {

class backend_ref {
public:
    /// No backend: every job runs in this process only.
    backend_ref() = default;

    /// Refers to `store`, which must outlive every scheduler using this handle.
    template <class Store>
    backend_ref(Store& store)  // NOLINT(google-explicit-constructor): a store is a backend
        : model_(std::make_shared<model<Store>>(store)) {
        static_assert(key_store<Store>,
                      "sked::backend_ref needs a sked::key_store: claim(key, ttl), renew(lease&, ttl), "
                      "complete(lease, keep_for) and release(lease), each returning a sked::result with a "
                      "sked::backend_error");
    }

    [[nodiscard]] explicit operator bool() const noexcept { return model_ != nullptr; }
    /// Whether the store records slot progress (misfires survive a full restart).
    [[nodiscard]] bool records_progress() const noexcept { return model_ && model_->records_progress(); }

    result<grant, backend_error> claim(std::string_view key, std::chrono::milliseconds ttl) const {
        return model_->claim(key, ttl);
    }
    /// Whether the store claims many keys in one round trip (sked::batch_claims).
    [[nodiscard]] bool claims_in_batches() const noexcept { return model_ && model_->claims_in_batches(); }
    /// sked::batch_claims; a store without it answers with an error.
    result<std::vector<grant>, backend_error> claim_many(std::span<const std::string> keys,
                                                         std::chrono::milliseconds ttl) const {
        return model_->claim_many(keys, ttl);
    }
    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) const {
        return model_->renew(held, ttl);
    }
    /// Whether the store settles many run keys in one round trip (sked::batch_settles).
    [[nodiscard]] bool settles_in_batches() const noexcept { return model_ && model_->settles_in_batches(); }
    /// sked::batch_settles; a store without it answers with an error.
    result<std::vector<key_settled>, backend_error> settle_many(std::span<const key_settlement> batch) const {
        return model_->settle_many(batch);
    }
    result<bool, backend_error> complete(const lease& held, std::chrono::milliseconds keep) const {
        return model_->complete(held, keep);
    }
    result<bool, backend_error> release(const lease& held) const { return model_->release(held); }
    result<std::optional<std::chrono::sys_seconds>, backend_error> last_slot(std::string_view job) const {
        return model_->last_slot(job);
    }
    result<bool, backend_error> record_slot(std::string_view job, std::chrono::sys_seconds slot) const {
        return model_->record_slot(job, slot);
    }
    [[nodiscard]] bool reports_facts() const noexcept { return model_ && model_->reports_facts(); }
    /// sked::reports_facts; only when reports_facts().
    result<backend_facts, backend_error> facts() const { return model_->facts(); }
    /// sked::abandoned_claims, or "none abandoned" for a store that cannot tell.
    result<std::vector<bool>, backend_error> abandoned(std::span<const std::string> keys) const {
        return model_->abandoned(keys);
    }

    /// Whether the store keeps durable one-off jobs (sked::durable_jobs).
    [[nodiscard]] bool keeps_jobs() const noexcept { return model_ && model_->keeps_jobs(); }
    /// sked::durable_jobs; a store without it answers every call with an error.
    result<create_status, backend_error> create_job(const one_off_record& r) const { return model_->create_job(r); }
    result<bool, backend_error> cancel_job(std::string_view kind, std::string_view key) const {
        return model_->cancel_job(kind, key);
    }
    result<taken_batch, backend_error> take_jobs(std::string_view kind, instant now, std::size_t n,
                                                 std::chrono::milliseconds ttl) const {
        return model_->take_jobs(kind, now, n, ttl);
    }
    result<bool, backend_error> renew_job(taken_job& held, std::chrono::milliseconds ttl) const {
        return model_->renew_job(held, ttl);
    }
    result<bool, backend_error> finish_job(const taken_job& held, std::chrono::milliseconds keep) const {
        return model_->finish_job(held, keep);
    }
    /// Whether the store finishes many one-offs in one round trip (sked::batch_finishes).
    [[nodiscard]] bool finishes_in_batches() const noexcept { return model_ && model_->finishes_in_batches(); }
    /// sked::batch_finishes; a store without it answers with an error.
    result<std::vector<result<bool, backend_error>>, backend_error> finish_jobs(
        std::span<const job_finish> batch) const {
        return model_->finish_jobs(batch);
    }
    result<bool, backend_error> retry_job(const taken_job& held, instant at, std::uint32_t attempt) const {
        return model_->retry_job(held, at, attempt);
    }
    result<bool, backend_error> release_job(const taken_job& held) const { return model_->release_job(held); }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual bool records_progress() const noexcept = 0;
        virtual result<grant, backend_error> claim(std::string_view, std::chrono::milliseconds) = 0;
        virtual bool claims_in_batches() const noexcept = 0;
        virtual result<std::vector<grant>, backend_error> claim_many(std::span<const std::string>,
                                                                     std::chrono::milliseconds) = 0;
        virtual result<bool, backend_error> renew(lease&, std::chrono::milliseconds) = 0;
        virtual bool settles_in_batches() const noexcept = 0;
        virtual result<std::vector<key_settled>, backend_error> settle_many(std::span<const key_settlement>) = 0;
        virtual result<bool, backend_error> complete(const lease&, std::chrono::milliseconds) = 0;
        virtual result<bool, backend_error> release(const lease&) = 0;
        virtual result<std::optional<std::chrono::sys_seconds>, backend_error> last_slot(std::string_view) = 0;
        virtual result<bool, backend_error> record_slot(std::string_view, std::chrono::sys_seconds) = 0;
        virtual result<std::vector<bool>, backend_error> abandoned(std::span<const std::string>) = 0;
        virtual bool reports_facts() const noexcept = 0;
        virtual result<backend_facts, backend_error> facts() = 0;
        virtual bool keeps_jobs() const noexcept = 0;
        virtual result<create_status, backend_error> create_job(const one_off_record&) = 0;
        virtual result<bool, backend_error> cancel_job(std::string_view, std::string_view) = 0;
        virtual result<taken_batch, backend_error> take_jobs(std::string_view, instant, std::size_t,
                                                             std::chrono::milliseconds) = 0;
        virtual result<bool, backend_error> renew_job(taken_job&, std::chrono::milliseconds) = 0;
        virtual result<bool, backend_error> finish_job(const taken_job&, std::chrono::milliseconds) = 0;
        virtual bool finishes_in_batches() const noexcept = 0;
        virtual result<std::vector<result<bool, backend_error>>, backend_error> finish_jobs(
            std::span<const job_finish>) = 0;
        virtual result<bool, backend_error> retry_job(const taken_job&, instant, std::uint32_t) = 0;
        virtual result<bool, backend_error> release_job(const taken_job&) = 0;
    };

    static backend_error keeps_no_jobs() {
        return {backend_errc::invalid_argument, "this backend keeps no one-off jobs (it is no sked::durable_jobs)"};
    }

    template <class Store>
    struct model final : concept_t {
        explicit model(Store& s) : store(s) {}
        bool records_progress() const noexcept override { return slot_progress<Store>; }
        result<grant, backend_error> claim(std::string_view key, std::chrono::milliseconds ttl) override {
            return store.claim(key, ttl);
        }
        bool claims_in_batches() const noexcept override { return batch_claims<Store>; }
        result<std::vector<grant>, backend_error> claim_many(std::span<const std::string> keys,
                                                             std::chrono::milliseconds ttl) override {
            if constexpr (batch_claims<Store>)
                return store.claim_many(keys, ttl);
            else
                return backend_error{backend_errc::invalid_argument,
                                     "this backend claims no batches (it is no sked::batch_claims)"};
        }
        bool settles_in_batches() const noexcept override { return batch_settles<Store>; }
        result<std::vector<key_settled>, backend_error> settle_many(std::span<const key_settlement> batch) override {
            if constexpr (batch_settles<Store>)
                return store.settle_many(batch);
            else
                return backend_error{backend_errc::invalid_argument,
                                     "this backend settles no batches (it is no sked::batch_settles)"};
        }
        result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) override {
            return store.renew(held, ttl);
        }
        result<bool, backend_error> complete(const lease& held, std::chrono::milliseconds keep) override {
            return store.complete(held, keep);
        }
        result<bool, backend_error> release(const lease& held) override { return store.release(held); }
        result<std::optional<std::chrono::sys_seconds>, backend_error> last_slot(std::string_view job) override {
            if constexpr (slot_progress<Store>) {
                return store.last_slot(job);
            } else {
                return std::optional<std::chrono::sys_seconds>{};
            }
        }
        result<bool, backend_error> record_slot(std::string_view job, std::chrono::sys_seconds slot) override {
            if constexpr (slot_progress<Store>) {
                return store.record_slot(job, slot);
            } else {
                return false;
            }
        }
        result<std::vector<bool>, backend_error> abandoned(std::span<const std::string> keys) override {
            if constexpr (abandoned_claims<Store>) {
                return store.abandoned(keys);
            } else {
                return std::vector<bool>(keys.size(), false);
            }
        }
        bool reports_facts() const noexcept override { return sked::reports_facts<Store>; }
        result<backend_facts, backend_error> facts() override {
            if constexpr (sked::reports_facts<Store>) {
                return store.facts();
            } else {
                return backend_error{backend_errc::invalid_argument, "this backend reports no facts"};
            }
        }
        bool keeps_jobs() const noexcept override { return durable_jobs<Store>; }
        result<create_status, backend_error> create_job(const one_off_record& r) override {
            if constexpr (durable_jobs<Store>)
                return store.create_job(r);
            else
                return keeps_no_jobs();
        }
        result<bool, backend_error> cancel_job(std::string_view kind, std::string_view key) override {
            if constexpr (durable_jobs<Store>)
                return store.cancel_job(kind, key);
            else
                return keeps_no_jobs();
        }
        result<taken_batch, backend_error> take_jobs(std::string_view kind, instant now, std::size_t n,
                                                     std::chrono::milliseconds ttl) override {
            if constexpr (durable_jobs<Store>)
                return store.take_jobs(kind, now, n, ttl);
            else
                return keeps_no_jobs();
        }
        result<bool, backend_error> renew_job(taken_job& held, std::chrono::milliseconds ttl) override {
            if constexpr (durable_jobs<Store>)
                return store.renew_job(held, ttl);
            else
                return keeps_no_jobs();
        }
        result<bool, backend_error> finish_job(const taken_job& held, std::chrono::milliseconds keep) override {
            if constexpr (durable_jobs<Store>)
                return store.finish_job(held, keep);
            else
                return keeps_no_jobs();
        }
        bool finishes_in_batches() const noexcept override { return batch_finishes<Store>; }
        result<std::vector<result<bool, backend_error>>, backend_error> finish_jobs(
            std::span<const job_finish> batch) override {
            if constexpr (batch_finishes<Store>)
                return store.finish_jobs(batch);
            else
                return backend_error{backend_errc::invalid_argument,
                                     "this backend finishes no batches (it is no sked::batch_finishes)"};
        }
        result<bool, backend_error> retry_job(const taken_job& held, instant at, std::uint32_t attempt) override {
            if constexpr (durable_jobs<Store>)
                return store.retry_job(held, at, attempt);
            else
                return keeps_no_jobs();
        }
        result<bool, backend_error> release_job(const taken_job& held) override {
            if constexpr (durable_jobs<Store>)
                return store.release_job(held);
            else
                return keeps_no_jobs();
        }
        Store& store;
    };

    std::shared_ptr<concept_t> model_;
};

}  // namespace sked
