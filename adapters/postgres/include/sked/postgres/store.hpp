// sked/postgres/store.hpp — locks and run keys in PostgreSQL (libpq).
//
//     sked::postgres::options settings{.url = "postgresql://sked@db/app"};
//     sked::postgres::migrate(settings);                  // once, at start (migrate.hpp)
//     sked::postgres::keys keys{settings};
//     sked::scheduler s{{.keys = sked::backend_ref{keys}}};
//
// Each object holds one connection (connected at its first call) and makes one call at
// a time; every call is one function of the schema (migrations.hpp), one round trip and
// one transaction. Lease validity is timed on the client's steady clock from when the
// call was sent, less a drift allowance; expiry and fencing tokens on the server's clock,
// as with Redis (docs/locks.md, "PostgreSQL").
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sked/backend_error.hpp"
#include "sked/detail/owner_tokens.hpp"
#include "sked/idempotency.hpp"
#include "sked/lock.hpp"
#include "sked/one_off.hpp"
#include "sked/result.hpp"

#include "connection.hpp"
#include "migrate.hpp"
#include "options.hpp"
#include "pool.hpp"
#include "transaction.hpp"

namespace sked::postgres {
namespace detail {

/// Appends `item` to an array literal as a quoted element ("...", with " and \ escaped).
inline void append_element(std::string& literal, std::string_view item) {
    literal += literal.size() > 1 ? ",\"" : "\"";
    for (char c : item) {
        if (c == '"' || c == '\\') literal += '\\';
        literal += c;
    }
    literal += '"';
}

/// A PostgreSQL array literal of `items` as text, e.g. {"a","b"}: one parameter for a batch.
/// `text_of` answers a string, or an optional one (nullopt: NULL).
template <class Range, class Text>
std::string array_literal(const Range& items, Text text_of) {
    std::string literal = "{";
    for (const auto& item : items) {
        const std::optional<std::string> text = text_of(item);
        if (text) {
            append_element(literal, *text);
        } else {
            literal += literal.size() > 1 ? ",NULL" : "NULL";
        }
    }
    return literal + "}";
}

inline std::string ms_text(std::chrono::milliseconds duration) { return std::to_string(duration.count()); }
inline std::string ms_text(instant at) { return std::to_string(at.time_since_epoch().count()); }

/// Bytes as a bytea parameter in hex ("\\x0a1b..."), so any byte passes as text.
inline std::string bytea_text(std::string_view bytes) {
    constexpr char digits[] = "0123456789abcdef";
    std::string out = "\\x";
    out.reserve(2 + 2 * bytes.size());
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        out += digits[byte >> 4];
        out += digits[byte & 15];
    }
    return out;
}

/// A bytea column in hex output back to bytes, or nullopt when it is not "\\x" and hex.
inline std::optional<std::string> bytes_of(std::string_view hex) {
    if (!hex.starts_with("\\x") || hex.size() % 2 != 0) return std::nullopt;
    const auto value = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out;
    out.reserve(hex.size() / 2 - 1);
    for (std::size_t i = 2; i < hex.size(); i += 2) {
        const int high = value(hex[i]), low = value(hex[i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        out += static_cast<char>(high * 16 + low);
    }
    return out;
}

/// One connection to the schema's functions; the schema's version is checked on the
/// first call (detail::check_version), so a store never runs on tables it does not know.
class schema_client {
public:
    explicit schema_client(options settings)
        : link_(std::move(settings)), schema_(quoted_identifier(link_.settings().schema)) {}

    /// `SELECT <columns> FROM <schema>.<function>`, e.g. call("o_status", "claim($1)", ...).
    result<rows_ptr, backend_error> call(std::string_view columns, std::string_view function,
                                         std::span<const std::string> params) {
        if (auto bad = ready()) return *std::move(bad);
        std::string sql = "SELECT ";
        sql.append(columns).append(" FROM ").append(schema_).append(".").append(function);
        return link_.run_prepared(sql, params);
    }

    /// A statement that reads no table of the schema.
    result<rows_ptr, backend_error> plain(const char* sql) { return link_.run(sql); }

    [[nodiscard]] const options& settings() const noexcept { return link_.settings(); }
    [[nodiscard]] std::string where() const { return link_.where(); }

private:
    std::optional<backend_error> ready() {
        if (checked_) return std::nullopt;
        if (auto bad = check_schema(link_.settings().schema)) return bad;
        auto version = schema_version(link_);
        if (!version) return version.error();
        if (auto bad = check_version(*version, link_.settings().schema)) return bad;
        checked_ = true;
        return std::nullopt;
    }

    connection link_;
    std::string schema_;
    bool checked_ = false;
};

/// The store's own connections (options::store_connections): a call borrows one that
/// is free, opening one while fewer than the limit are open, else waits for one.
class client_pool {
public:
    explicit client_pool(options settings)
        : settings_(std::move(settings)), limit_(std::max<std::size_t>(settings_.store_connections, 1)) {}

    class loan {
    public:
        loan(client_pool& pool, std::unique_ptr<schema_client> client) : pool_(pool), client_(std::move(client)) {}
        loan(const loan&) = delete;
        loan& operator=(const loan&) = delete;
        ~loan() { pool_.give_back(std::move(client_)); }
        schema_client& operator*() const noexcept { return *client_; }

    private:
        client_pool& pool_;
        std::unique_ptr<schema_client> client_;
    };

    loan borrow() {
        std::unique_lock hold{mutex_};
        freed_.wait(hold, [this] { return !idle_.empty() || opened_ < limit_; });
        if (!idle_.empty()) {
            auto client = std::move(idle_.back());
            idle_.pop_back();
            return {*this, std::move(client)};
        }
        ++opened_;
        hold.unlock();
        return {*this, std::make_unique<schema_client>(settings_)};  // connects at its first call
    }

private:
    void give_back(std::unique_ptr<schema_client> client) {
        {
            std::lock_guard hold{mutex_};
            idle_.push_back(std::move(client));
        }
        freed_.notify_one();
    }

    options settings_;
    std::size_t limit_;
    std::mutex mutex_;
    std::condition_variable freed_;
    std::size_t opened_ = 0;
    std::vector<std::unique_ptr<schema_client>> idle_;
};

/// Rows of `rows` as `expected` rows of `columns` columns, or a protocol error.
inline std::optional<backend_error> check_shape(const PGresult& rows, std::size_t expected, int columns,
                                                std::string_view doing) {
    if (PQntuples(&rows) == static_cast<int>(expected) && PQnfields(&rows) == columns) return std::nullopt;
    return backend_error{backend_errc::protocol, std::string(doing) + " answered " + std::to_string(PQntuples(&rows)) +
                                                     " rows of " + std::to_string(PQnfields(&rows)) +
                                                     " columns where " + std::to_string(expected) + " of " +
                                                     std::to_string(columns) + " were expected"};
}

inline result<bool, backend_error> flag_answer(result<rows_ptr, backend_error> answer, std::string_view doing) {
    if (!answer) return answer.error();
    if (auto bad = check_shape(**answer, 1, 1, doing)) return *std::move(bad);
    return text_at(**answer, 0, 0) == "t";
}

/// Leases of one space ('l' locks, 'k' run keys): claim, renew, finish.
class lease_table {
public:
    lease_table(options settings, char space, std::string_view what)
        : clients_(std::move(settings)), space_(1, space), what_(what) {}

    /// Runs `work(client)` on a connection no other call is using: the store's other calls.
    template <class Work>
    auto with_client(Work&& work) {
        auto lent = clients_.borrow();
        return std::forward<Work>(work)(*lent);
    }

    result<std::vector<grant>, backend_error> claim_many(std::span<const std::string> names,
                                                         std::chrono::milliseconds ttl) {
        if (auto bad = sked::detail::check_names(what_, names)) return *std::move(bad);
        if (auto bad = sked::detail::check_ttl("ttl", ttl)) return *std::move(bad);
        // One owner per name, so a name twice in a batch is held by the first.
        std::vector<std::string> owners(names.size());
        for (auto& owner : owners)
            owner = owners_.next();
        const auto as_text = [](const std::string& text) { return std::optional{text}; };
        const std::string params[] = {space_, array_literal(names, as_text), array_literal(owners, as_text),
                                      ms_text(ttl)};
        const auto sent_at = lease_clock::now();
        auto answer = with_client([&](schema_client& client) {
            return client.call("o_status, o_fence, o_left_ms", "claim($1, $2, $3, $4)", params);
        });
        if (!answer) return answer.error();
        if (auto bad = check_shape(**answer, names.size(), 3, "claim")) return *std::move(bad);
        std::vector<grant> grants(names.size());
        for (std::size_t i = 0; i < names.size(); ++i) {
            const int row = static_cast<int>(i);
            auto status = integer_at(**answer, row, 0, "claim");
            auto fence = integer_at(**answer, row, 1, "claim");
            auto left = integer_at(**answer, row, 2, "claim");
            if (!status || !fence || !left) return (!status ? status : !fence ? fence : left).error();
            const std::chrono::milliseconds remaining{*left};
            if (*status == 0) {
                grants[i] = {grant_status::acquired,
                             lease{names[i], std::move(owners[i]), static_cast<fence_token>(*fence),
                                   sent_at + remaining - sked::detail::drift_allowance(ttl)}};
            } else if (*status == 1) {
                grants[i] = {grant_status::held_elsewhere, {}, remaining};
            } else if (*status == 2) {
                grants[i] = {grant_status::already_done, {}};
            } else {
                return backend_error{backend_errc::protocol, "claim of '" + names[i] + "' answered status " +
                                                                 std::to_string(*status) + " (0, 1 or 2 expected)"};
            }
        }
        return grants;
    }

    result<grant, backend_error> claim(std::string_view name, std::chrono::milliseconds ttl) {
        const std::string one[] = {std::string(name)};
        auto grants = claim_many(one, ttl);
        if (!grants) return grants.error();
        return std::move(grants->front());
    }

    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) {
        if (auto bad = sked::detail::check_ttl("ttl", ttl)) return *std::move(bad);
        if (auto bad = sked::detail::check_name(what_, held.name)) return *std::move(bad);
        const std::string params[] = {space_, held.name, held.owner, ms_text(ttl)};
        const auto sent_at = lease_clock::now();
        auto renewed = flag_answer(
            with_client([&](schema_client& client) { return client.call("*", "renew($1, $2, $3, $4)", params); }),
            "renew");
        if (renewed && *renewed) held.valid_until = sent_at + ttl - sked::detail::drift_allowance(ttl);
        return renewed;
    }

    /// Done and kept for `keep` (run keys), or free again when `keep` is empty.
    result<bool, backend_error> finish(const lease& held, std::optional<std::chrono::milliseconds> keep) {
        if (keep) {
            if (auto bad = sked::detail::check_ttl("keep_for", *keep)) return *std::move(bad);
        }
        if (auto bad = sked::detail::check_name(what_, held.name)) return *std::move(bad);
        const std::string params[] = {space_, held.name, held.owner, keep ? "t" : "f",
                                      ms_text(keep.value_or(std::chrono::milliseconds{0}))};
        return flag_answer(
            with_client([&](schema_client& client) { return client.call("*", "finish($1, $2, $3, $4, $5)", params); }),
            "finish");
    }

private:
    client_pool clients_;
    sked::detail::owner_tokens owners_;
    std::string space_;
    std::string_view what_;
};

}  // namespace detail

/// sked::lock_backend on PostgreSQL.
class locks {
public:
    explicit locks(options settings = {}) : table_(std::move(settings), 'l', "lock name") {}

    result<grant, backend_error> try_lock(std::string_view name, std::chrono::milliseconds ttl) {
        return table_.claim(name, ttl);
    }
    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) { return table_.renew(held, ttl); }
    result<bool, backend_error> unlock(const lease& held) { return table_.finish(held, std::nullopt); }

private:
    detail::lease_table table_;
};

/// sked::key_store on PostgreSQL, with batch_claims, batch_settles, slot_progress,
/// abandoned_claims and reports_facts.
class keys {
public:
    explicit keys(options settings = {})
        : pool_(std::make_shared<detail::connection_pool>(transaction_settings(settings),
                                                          settings.idle_transaction_connections)),
          schema_(detail::quoted_identifier(settings.schema)),
          table_(std::move(settings), 'k', "key") {}

    /// A run's own transaction (sked/postgres/transaction.hpp): its writes and the run
    /// key's completion (kept for `keep`, as job_options::keep_done) commit together.
    result<run_transaction, backend_error> begin(const job_context& run,
                                                 std::chrono::milliseconds keep = std::chrono::hours{24 * 7}) {
        return run_transaction::begin(pool_, schema_, run, keep);
    }

    result<grant, backend_error> claim(std::string_view key, std::chrono::milliseconds ttl) {
        return table_.claim(key, ttl);
    }
    /// One round trip for the whole batch.
    result<std::vector<grant>, backend_error> claim_many(std::span<const std::string> batch,
                                                         std::chrono::milliseconds ttl) {
        return table_.claim_many(batch, ttl);
    }
    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) { return table_.renew(held, ttl); }
    result<bool, backend_error> complete(const lease& held, std::chrono::milliseconds keep_for) {
        return table_.finish(held, keep_for);
    }
    result<bool, backend_error> release(const lease& held) { return table_.finish(held, std::nullopt); }

    /// sked::batch_settles: one round trip; it also forgets a few rows past fence_memory.
    result<std::vector<key_settled>, backend_error> settle_many(std::span<const key_settlement> batch) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto bad = sked::detail::check_name("key", batch[i].key->name);
            if (!bad && batch[i].record) bad = sked::detail::check_name("job", batch[i].job);
            if (!bad && batch[i].completed) bad = sked::detail::check_ttl("keep_for", batch[i].keep);
            if (bad) {
                bad->detail += " (item " + std::to_string(i) + " of the batch)";
                return *std::move(bad);
            }
        }
        using item = key_settlement;
        return table_.with_client(
            [&](detail::schema_client& client) -> result<std::vector<key_settled>, backend_error> {
                const std::string params[] = {
                    detail::array_literal(batch, [](const item& i) { return i.key->name; }),
                    detail::array_literal(batch, [](const item& i) { return i.key->owner; }),
                    detail::array_literal(batch, [](const item& i) { return std::string(i.completed ? "t" : "f"); }),
                    detail::array_literal(batch, [](const item& i) { return detail::ms_text(i.keep); }),
                    detail::array_literal(
                        batch,
                        [](const item& i) { return i.record ? std::optional{std::string(i.job)} : std::nullopt; }),
                    detail::array_literal(
                        batch,
                        [](const item& i) {
                            return i.record ? std::optional{std::to_string(i.record->time_since_epoch().count())}
                                            : std::nullopt;
                        }),
                    detail::ms_text(client.settings().fence_memory)};
                auto answer = client.call("o_key, o_recorded", "settle($1, $2, $3, $4, $5, $6, $7)", params);
                if (!answer) return answer.error();
                if (auto bad = detail::check_shape(**answer, batch.size(), 2, "settle")) return *std::move(bad);
                std::vector<key_settled> out(batch.size());
                for (std::size_t i = 0; i < batch.size(); ++i) {
                    out[i].key = detail::text_at(**answer, static_cast<int>(i), 0) == "t";
                    out[i].recorded = detail::text_at(**answer, static_cast<int>(i), 1) == "t";
                }
                return out;
            });
    }

    /// sked::slot_progress.
    result<std::optional<std::chrono::sys_seconds>, backend_error> last_slot(std::string_view job) {
        if (auto bad = sked::detail::check_name("job", job)) return *std::move(bad);
        return table_.with_client(
            [&](detail::schema_client& client) -> result<std::optional<std::chrono::sys_seconds>, backend_error> {
                const std::string params[] = {std::string(job)};
                auto answer = client.call("s", "last_slot($1) AS s", params);
                if (!answer) return answer.error();
                if (auto bad = detail::check_shape(**answer, 1, 1, "last_slot")) return *std::move(bad);
                if (PQgetisnull(answer->get(), 0, 0)) return std::optional<std::chrono::sys_seconds>{};
                auto seconds = detail::integer_at(**answer, 0, 0, "last_slot");
                if (!seconds) return seconds.error();
                return std::optional{std::chrono::sys_seconds{std::chrono::seconds{*seconds}}};
            });
    }
    result<bool, backend_error> record_slot(std::string_view job, std::chrono::sys_seconds slot) {
        if (auto bad = sked::detail::check_name("job", job)) return *std::move(bad);
        return table_.with_client([&](detail::schema_client& client) {
            const std::string params[] = {std::string(job), std::to_string(slot.time_since_epoch().count())};
            return detail::flag_answer(client.call("*", "record_slot($1, $2)", params), "record_slot");
        });
    }

    /// sked::abandoned_claims: one round trip.
    result<std::vector<bool>, backend_error> abandoned(std::span<const std::string> names) {
        if (auto bad = sked::detail::check_names("key", names)) return *std::move(bad);
        return table_.with_client([&](detail::schema_client& client) -> result<std::vector<bool>, backend_error> {
            const std::string params[] = {
                detail::array_literal(names, [](const std::string& n) { return std::optional{n}; })};
            auto answer = client.call("*", "abandoned($1)", params);
            if (!answer) return answer.error();
            if (auto bad = detail::check_shape(**answer, names.size(), 1, "abandoned")) return *std::move(bad);
            std::vector<bool> out(names.size());
            for (std::size_t i = 0; i < names.size(); ++i)
                out[i] = detail::text_at(**answer, static_cast<int>(i), 0) == "t";
            return out;
        });
    }

    /// sked::reports_facts: the server's clock, and its start time as its identity (a
    /// restart changes it).
    result<backend_facts, backend_error> facts() {
        return table_.with_client([&](detail::schema_client& client) -> result<backend_facts, backend_error> {
            auto answer = client.plain(
                "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint,"
                " 'postgres started ' || pg_postmaster_start_time()::text");
            if (!answer) return answer.error();
            if (auto bad = detail::check_shape(**answer, 1, 2, "the server's clock")) return *std::move(bad);
            auto ms = detail::integer_at(**answer, 0, 0, "the server's clock");
            if (!ms) return ms.error();
            return backend_facts{instant{std::chrono::milliseconds{*ms}}, std::string(detail::text_at(**answer, 0, 1))};
        });
    }

    // ---- sked::durable_jobs: one row per job (migration 2) ------------------------------

    result<create_status, backend_error> create_job(const one_off_record& r) {
        if (auto bad = sked::detail::problem_with(r)) return *std::move(bad);
        const std::string params[] = {std::string(r.kind), std::string(r.key),
                                      std::to_string(r.slot.time_since_epoch().count()), detail::ms_text(r.run_at),
                                      detail::bytea_text(r.payload)};
        const auto doing = "creating one-off " + std::string(r.kind) + "/" + std::string(r.key);
        auto answer = call_one("create_job($1, $2, $3, $4, $5)", params, doing);
        if (!answer) return answer.error();
        auto status = detail::integer_at(**answer, 0, 0, doing);
        if (!status) return status.error();
        if (*status < 0 || *status > 2)
            return backend_error{backend_errc::protocol, doing + " answered " + std::to_string(*status)};
        return static_cast<create_status>(*status);
    }

    result<bool, backend_error> cancel_job(std::string_view kind, std::string_view key) {
        if (auto bad = sked::detail::problem_with_kind(kind)) return *std::move(bad);
        const std::string params[] = {std::string(kind), std::string(key)};
        return job_flag("cancel_job($1, $2)", params, "cancelling", kind, key);
    }

    result<taken_batch, backend_error> take_jobs(std::string_view kind, instant now, std::size_t n,
                                                 std::chrono::milliseconds ttl) {
        if (auto bad = sked::detail::problem_with_kind(kind)) return *std::move(bad);
        if (auto bad = sked::detail::check_ttl("ttl", ttl)) return *std::move(bad);
        const auto doing = "taking one-offs of " + std::string(kind);
        return table_.with_client([&](detail::schema_client& client) -> result<taken_batch, backend_error> {
            const auto owner = owners_.next();
            const std::string params[] = {std::string(kind), detail::ms_text(now), std::to_string(n),
                                          detail::ms_text(ttl), owner};
            const auto sent_at = lease_clock::now();
            auto answer = client.call("*", "take_jobs($1, $2, $3, $4, $5)", params);
            if (!answer) return answer.error();
            const int rows = PQntuples(answer->get());
            if (rows < 1 || PQnfields(answer->get()) != 6 || !PQgetisnull(answer->get(), rows - 1, 0))
                return backend_error{backend_errc::protocol, doing + " answered no queue summary"};
            taken_batch batch;
            for (int row = 0; row + 1 < rows; ++row) {
                auto job = taken(**answer, row, doing);
                if (!job) return job.error();
                job->kind = std::string(kind);
                job->lease.owner = owner;
                job->lease.valid_until = sent_at + ttl - sked::detail::drift_allowance(ttl);
                batch.jobs.push_back(*std::move(job));
            }
            auto pending = detail::integer_at(**answer, rows - 1, 4, doing);
            auto in_flight = detail::integer_at(**answer, rows - 1, 5, doing);
            if (!pending || !in_flight) return (!pending ? pending : in_flight).error();
            batch.left.pending = static_cast<std::uint64_t>(*pending);
            batch.left.in_flight = static_cast<std::uint64_t>(*in_flight);
            if (!PQgetisnull(answer->get(), rows - 1, 3)) {
                auto next = detail::integer_at(**answer, rows - 1, 3, doing);
                if (!next) return next.error();
                batch.left.next_due = instant{std::chrono::milliseconds{*next}};
            }
            return batch;
        });
    }

    result<bool, backend_error> renew_job(taken_job& held, std::chrono::milliseconds ttl) {
        if (auto bad = sked::detail::check_ttl("ttl", ttl)) return *std::move(bad);
        const std::string params[] = {held.kind, held.key, held.lease.owner, detail::ms_text(ttl)};
        const auto sent_at = lease_clock::now();
        auto renewed = job_flag("renew_job($1, $2, $3, $4)", params, "renewing", held.kind, held.key);
        if (renewed && *renewed) held.lease.valid_until = sent_at + ttl - sked::detail::drift_allowance(ttl);
        return renewed;
    }

    result<bool, backend_error> finish_job(const taken_job& held, std::chrono::milliseconds keep) {
        if (auto bad = sked::detail::check_ttl("keep", keep)) return *std::move(bad);
        const std::string params[] = {held.kind, held.key, held.lease.owner, detail::ms_text(keep)};
        return job_flag("finish_job($1, $2, $3, $4)", params, "finishing", held.kind, held.key);
    }
    /// sked::batch_finishes: one round trip, one commit for the whole batch.
    result<std::vector<result<bool, backend_error>>, backend_error> finish_jobs(std::span<const job_finish> batch) {
        for (std::size_t i = 0; i < batch.size(); ++i)
            if (auto bad = sked::detail::check_ttl("keep", batch[i].keep)) {
                bad->detail += " (item " + std::to_string(i) + " of the batch)";
                return *std::move(bad);
            }
        using item = job_finish;
        return table_.with_client(
            [&](detail::schema_client& client) -> result<std::vector<result<bool, backend_error>>, backend_error> {
                const std::string params[] = {
                    detail::array_literal(batch, [](const item& i) { return i.job->kind; }),
                    detail::array_literal(batch, [](const item& i) { return i.job->key; }),
                    detail::array_literal(batch, [](const item& i) { return i.job->lease.owner; }),
                    detail::array_literal(batch, [](const item& i) { return detail::ms_text(i.keep); })};
                auto answer = client.call("o_ended", "finish_jobs($1, $2, $3, $4)", params);
                if (!answer) return answer.error();
                if (auto bad = detail::check_shape(**answer, batch.size(), 1, "finish_jobs")) return *std::move(bad);
                std::vector<result<bool, backend_error>> out;
                out.reserve(batch.size());
                for (std::size_t i = 0; i < batch.size(); ++i)
                    out.emplace_back(detail::text_at(**answer, static_cast<int>(i), 0) == "t");
                return out;
            });
    }

    result<bool, backend_error> retry_job(const taken_job& held, instant at, std::uint32_t attempt) {
        const std::string params[] = {held.kind, held.key, held.lease.owner, detail::ms_text(at),
                                      std::to_string(attempt)};
        return job_flag("reschedule_job($1, $2, $3, $4, $5)", params, "rescheduling", held.kind, held.key);
    }
    result<bool, backend_error> release_job(const taken_job& held) {
        return retry_job(held, held.run_at, held.attempt);
    }

private:
    // One function that answers one value.
    result<detail::rows_ptr, backend_error> call_one(std::string_view function, std::span<const std::string> params,
                                                     const std::string& doing) {
        return table_.with_client([&](detail::schema_client& client) -> result<detail::rows_ptr, backend_error> {
            auto answer = client.call("*", function, params);
            if (!answer) return answer.error();
            if (auto bad = detail::check_shape(**answer, 1, 1, doing)) return *std::move(bad);
            return answer;
        });
    }

    result<bool, backend_error> job_flag(std::string_view function, std::span<const std::string> params,
                                         std::string_view verb, std::string_view kind, std::string_view key) {
        const auto doing = std::string(verb) + " one-off " + std::string(kind) + "/" + std::string(key);
        auto answer = call_one(function, params, doing);
        if (!answer) return answer.error();
        return detail::text_at(**answer, 0, 0) == "t";
    }

    // A row of take_jobs: key, payload, slot, run_at, attempt, fence.
    static result<taken_job, backend_error> taken(const PGresult& rows, int row, const std::string& doing) {
        taken_job job;
        job.key = std::string(detail::text_at(rows, row, 0));
        auto payload = detail::bytes_of(detail::text_at(rows, row, 1));
        if (!payload)
            return backend_error{backend_errc::protocol, doing + ": the payload of " + job.key + " is not hex"};
        job.payload = *std::move(payload);
        auto slot = detail::integer_at(rows, row, 2, doing);
        auto run_at = detail::integer_at(rows, row, 3, doing);
        auto attempt = detail::integer_at(rows, row, 4, doing);
        auto fence = detail::integer_at(rows, row, 5, doing);
        for (const auto* number : {&slot, &run_at, &attempt, &fence})
            if (!*number) return number->error();
        job.slot = std::chrono::sys_seconds{std::chrono::seconds{*slot}};
        job.run_at = instant{std::chrono::milliseconds{*run_at}};
        job.attempt = static_cast<std::uint32_t>(*attempt);
        job.lease.name = job.key;
        job.lease.fence = static_cast<fence_token>(*fence);
        return job;
    }

    static options transaction_settings(options settings) {
        settings.command_timeout = settings.transaction_timeout;
        return settings;
    }

    std::shared_ptr<detail::connection_pool> pool_;
    std::string schema_;
    detail::lease_table table_;
    sked::detail::owner_tokens owners_;  // one per take
};

static_assert(key_store<keys> && batch_claims<keys> && batch_settles<keys> && slot_progress<keys> &&
              durable_jobs<keys> && batch_finishes<keys>);

}  // namespace sked::postgres
