// examples/expiry/postgres_trade_store.hpp — the trades and their outbox in PostgreSQL
// (--postgres); a sweep writes in its run's transaction:
//
//     BEGIN;                                               -- keys.begin(run)
//     WITH swept AS (UPDATE trades SET state = ... WHERE state = 'open' AND expires <= :slot
//                    RETURNING opened, state)
//     INSERT INTO outbox (trade) SELECT opened FROM swept WHERE state = 'expired';
//     COMMIT;                                              -- with the run key done, or nothing
//
// A trade is keyed by the second it opened: the market is the same in every process, so
// replicas in several processes that start at different times add the same trades once.
// The outbox has no unique index, so the check at the end sees a trade notified twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <sked/job.hpp>
#include <sked/postgres/store.hpp>
#include <sked/result.hpp>

#include "../harness/postgres_tables.hpp"
#include "trade_store.hpp"

namespace expiry {

class postgres_trade_store {
public:
    /// Creates the tables in `schema` (sked's) if they are missing, and adds `trades`.
    static sked::result<postgres_trade_store, std::string> open(const std::string& url, const std::string& schema,
                                                                const std::vector<trade>& trades) {
        auto tables = example::postgres_tables::open(
            url, schema,
            "CREATE TABLE IF NOT EXISTS {s}.trades (opened timestamptz PRIMARY KEY, expires timestamptz NOT NULL,"
            " accepted timestamptz, state text NOT NULL DEFAULT 'open', expired_by timestamptz);"
            "CREATE TABLE IF NOT EXISTS {s}.outbox (trade timestamptz NOT NULL, event text NOT NULL);"
            "INSERT INTO {s}.trades (opened, expires, accepted)"
            " SELECT to_timestamp(o), to_timestamp(e), to_timestamp(a) FROM unnest(" +
                arrays_of(trades) + ") AS market(o, e, a) ON CONFLICT (opened) DO NOTHING");
        if (!tables) return tables.error();
        return postgres_trade_store{std::move(*tables)};
    }

    /// Expires every open trade whose time-to-live ended by the run's slot, with a
    /// notification each, in the run's transaction; `working` runs before COMMIT.
    template <class Working>
    sked::result<sweep_result, std::string> sweep(sked::postgres::keys& keys, const sked::job_context& run,
                                                  Working working) {
        auto tx = keys.begin(run);
        if (!tx) return "begin: " + tx.error().message();
        auto swept = tx->run(sweep_.c_str(), {std::to_string(run.nominal.time_since_epoch().count())});
        if (!swept) return "sweep: " + swept.error().message();
        const auto count = [&](int column) { return std::stoull(PQgetvalue(swept->get(), 0, column)); };
        const sweep_result out{.expired = count(0), .accepted = count(1)};
        if (!working()) return std::string("stopped before the sweep committed: nothing written");
        auto committed = tx->commit();
        if (!committed) return "commit: " + committed.error().message();
        if (!*committed) return sweep_result{.stale = true};
        return out;
    }

    /// What the database holds as of `now`: trade_store::audit's counts, plus the trades
    /// notified more than once (`twice`).
    struct tally {
        trade_store::audit trades{};
        std::int64_t twice = 0;
    };
    sked::result<tally, std::string> check(std::chrono::sys_seconds now, std::chrono::seconds slack) {
        const auto at = std::to_string(now.time_since_epoch().count()), late = std::to_string(slack.count());
        auto row =
            tables_.numbers("SELECT count(*) FILTER (WHERE opened <= to_timestamp(" + at +
                            ")),"
                            " count(*) FILTER (WHERE state = 'expired'), count(*) FILTER (WHERE state = 'accepted'),"
                            " (SELECT count(*) FROM {s}.outbox), count(*) FILTER (WHERE expired_by < expires),"
                            " count(*) FILTER (WHERE state = 'open' AND expires + interval '" +
                            late + " seconds' < to_timestamp(" + at +
                            ")),"
                            " (SELECT count(*) FROM (SELECT 1 FROM {s}.outbox GROUP BY trade HAVING count(*) > 1) d)"
                            " FROM {s}.trades");
        if (!row) return row.error();
        const auto n = [&](std::size_t i) { return static_cast<std::size_t>((*row)[i]); };
        return tally{{n(0), n(1), n(2), n(3), n(4), n(5)}, (*row)[6]};
    }

private:
    explicit postgres_trade_store(example::postgres_tables tables)
        : tables_(std::move(tables)),
          sweep_(tables_.with_schema(
              "WITH swept AS (UPDATE {s}.trades SET"
              "   state = CASE WHEN accepted <= to_timestamp($1) THEN 'accepted' ELSE 'expired' END,"
              "   expired_by = CASE WHEN accepted <= to_timestamp($1) THEN NULL ELSE to_timestamp($1) END"
              "   WHERE state = 'open' AND expires <= to_timestamp($1) RETURNING opened, state),"
              " notified AS (INSERT INTO {s}.outbox (trade, event)"
              "   SELECT opened, 'trade_expired' FROM swept WHERE state = 'expired')"
              " SELECT count(*) FILTER (WHERE state = 'expired'), count(*) FILTER (WHERE state = 'accepted')"
              " FROM swept")) {}

    /// The trades as three bigint[] literals (opened, expires, accepted or NULL), in epoch seconds.
    static std::string arrays_of(const std::vector<trade>& trades) {
        std::string opened, expires, accepted;
        for (const auto& t : trades) {
            const auto sep = opened.empty() ? "" : ",";
            opened += sep + std::to_string(t.opened.time_since_epoch().count());
            expires += sep + std::to_string(t.expires.time_since_epoch().count());
            accepted += sep + (t.accepted ? std::to_string(t.accepted->time_since_epoch().count()) : "NULL");
        }
        return "'{" + opened + "}'::bigint[], '{" + expires + "}'::bigint[], '{" + accepted + "}'::bigint[]";
    }

    example::postgres_tables tables_;
    std::string sweep_;
};

}  // namespace expiry
