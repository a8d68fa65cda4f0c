// examples/reward/postgres_reward_store.hpp — the reward store in PostgreSQL (--postgres):
// the grant is written in the run's own transaction, so the rewards and the run key's
// completion commit together or not at all (docs/locks.md, "A run's writes in its
// transaction"):
//
//     auto tx = keys.begin(run);                       // BEGIN; the run still holds its key?
//     tx->run("INSERT INTO rewards (player, slot) SELECT id, $1 FROM players", {slot});
//     tx->commit();                                    // the key done + COMMIT, or nothing
//
// The rewards table has no unique index on purpose: it is not what keeps a reward from
// being granted twice (the transaction is), so a reward granted twice would be two rows,
// and the check at the end (every player holds exactly one reward per slot) would see it.
// Setting up and checking use libpq directly, as a service's own code would.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <sked/job.hpp>
#include <sked/postgres/store.hpp>
#include <sked/result.hpp>

namespace reward {

class postgres_reward_store {
public:
    /// Creates the tables in `schema` (sked's) if they are missing, with players 1..players.
    static sked::result<postgres_reward_store, std::string> open(const std::string& url, const std::string& schema,
                                                                 std::size_t players) {
        postgres_reward_store store{url, schema};
        if (PQstatus(store.link_.get()) != CONNECTION_OK)
            return "--postgres: " + std::string(PQerrorMessage(store.link_.get()));
        const auto s = store.schema_;
        // One transaction under a lock: replicas in several processes start at once.
        const std::string setup =
            "SELECT pg_advisory_xact_lock(hashtext('sked example rewards'));"
            "CREATE TABLE IF NOT EXISTS " +
            s +
            ".players (id integer PRIMARY KEY);"
            "CREATE TABLE IF NOT EXISTS " +
            s + ".rewards (player integer NOT NULL, slot timestamptz NOT NULL);" + "INSERT INTO " + s +
            ".players SELECT generate_series(1, " + std::to_string(players) + ") ON CONFLICT DO NOTHING";
        if (auto failed = store.exec(setup)) return "setting up the reward tables: " + *failed;
        return store;
    }

    struct grant_summary {
        std::int64_t granted = 0;
        bool stale = false;  ///< the run no longer held its key: nothing was written
    };

    /// Grants every player the reward of the run's slot, in the run's transaction;
    /// `between` runs after the writes, before COMMIT (the grant taking its time).
    template <class Between>
    sked::result<grant_summary, std::string> grant_all(sked::postgres::keys& keys, const sked::job_context& run,
                                                       Between between) {
        auto tx = keys.begin(run);
        if (!tx) return "begin: " + tx.error().message();
        const std::string insert = "INSERT INTO " + schema_ +
                                   ".rewards (player, slot) SELECT id, to_timestamp($1) FROM " + schema_ + ".players";
        auto written = tx->run(insert.c_str(), {std::to_string(run.nominal.time_since_epoch().count())});
        if (!written) return "insert: " + written.error().message();
        const auto granted = std::stoll(PQcmdTuples(written->get()));
        if (!between()) return std::string("stopped before COMMIT: nothing written");
        auto committed = tx->commit();
        if (!committed) return "commit: " + committed.error().message();
        if (!*committed) return grant_summary{.stale = true};
        return grant_summary{.granted = granted};
    }

    /// What the database holds: players, the fewest and most rewards a player has, the
    /// (player, slot) pairs granted more than once, and the slots granted to fewer than all.
    struct tally {
        std::int64_t players = 0, fewest = 0, most = 0, twice = 0, partial = 0;
    };
    sked::result<tally, std::string> count() {
        const std::string s = schema_;
        const std::string sql = "SELECT (SELECT count(*) FROM " + s + ".players), min(n), max(n)," +
                                " (SELECT count(*) FROM (SELECT 1 FROM " + s +
                                ".rewards GROUP BY player, slot HAVING count(*) > 1) d)," +
                                " (SELECT count(*) FROM (SELECT 1 FROM " + s +
                                ".rewards GROUP BY slot HAVING count(*) <> (SELECT count(*) FROM " + s +
                                ".players)) p)" + " FROM (SELECT count(r.player) n FROM " + s +
                                ".players p LEFT JOIN " + s + ".rewards r ON r.player = p.id GROUP BY p.id) per_player";
        result_ptr rows{PQexec(link_.get(), sql.c_str())};
        if (PQresultStatus(rows.get()) != PGRES_TUPLES_OK) return "counting rewards: " + error_of(rows.get());
        const auto at = [&](int column) { return std::stoll(PQgetvalue(rows.get(), 0, column)); };
        return tally{at(0), at(1), at(2), at(3), at(4)};
    }

private:
    struct finish {
        void operator()(PGconn* link) const noexcept { PQfinish(link); }
    };
    struct clear {
        void operator()(PGresult* rows) const noexcept { PQclear(rows); }
    };
    using result_ptr = std::unique_ptr<PGresult, clear>;

    postgres_reward_store(const std::string& url, const std::string& schema) : link_(PQconnectdb(url.c_str())) {
        if (PQstatus(link_.get()) != CONNECTION_OK) return;
        PQsetNoticeProcessor(
            link_.get(), [](void*, const char*) {}, nullptr);  // "already exists, skipping"
        char* quoted = PQescapeIdentifier(link_.get(), schema.c_str(), schema.size());
        if (quoted != nullptr) schema_ = quoted;
        PQfreemem(quoted);
    }

    std::optional<std::string> exec(const std::string& sql) {
        result_ptr rows{PQexec(link_.get(), sql.c_str())};
        const auto status = PQresultStatus(rows.get());
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return std::nullopt;
        return error_of(rows.get());
    }
    std::string error_of(const PGresult* rows) const {
        std::string text = rows ? PQresultErrorMessage(rows) : PQerrorMessage(link_.get());
        while (!text.empty() && text.back() == '\n')
            text.pop_back();
        return text;
    }

    std::unique_ptr<PGconn, finish> link_;
    std::string schema_;
};

}  // namespace reward
