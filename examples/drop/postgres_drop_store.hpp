// examples/drop/postgres_drop_store.hpp — the drops in PostgreSQL (--postgres), each written
// in its run's transaction:
//
//     BEGIN;                                               -- keys.begin(run)
//     INSERT INTO drops (drop_window, began, done) VALUES (:window, clock_timestamp(), ...);
//     ... spawning takes its time ...
//     UPDATE drops SET done = clock_timestamp() WHERE drop_window = :window;
//     COMMIT;                                              -- with the run key done, or nothing
//
// No unique index and no fencing token in the table: the transaction keeps a window from
// dropping twice, and a spawner whose lease ran out meanwhile commits nothing. So the
// check at the end can see what went wrong: a window with two rows, or two drops whose
// spawning overlapped (began to done, on the server's clock, which every replica shares).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include <sked/job.hpp>
#include <sked/postgres/store.hpp>
#include <sked/result.hpp>

#include "../harness/postgres_tables.hpp"

namespace drop {

class postgres_drop_store {
public:
    /// Creates the drops table in `schema` (sked's) if it is missing.
    static sked::result<postgres_drop_store, std::string> open(const std::string& url, const std::string& schema) {
        auto tables = example::postgres_tables::open(url, schema,
                                                     "CREATE TABLE IF NOT EXISTS {s}.drops (drop_window timestamptz "
                                                     "NOT NULL, messages bigint NOT NULL, began timestamptz NOT NULL, "
                                                     "done timestamptz NOT NULL)");
        if (!tables) return tables.error();
        return postgres_drop_store{std::move(*tables)};
    }

    enum class spawned { dropped, stale };

    /// Writes the drop of the run's window in the run's transaction; `spawning` runs
    /// between its first write and COMMIT, and false from it writes nothing.
    template <class Spawning>
    sked::result<spawned, std::string> spawn(sked::postgres::keys& keys, const sked::job_context& run,
                                             std::uint64_t messages, Spawning spawning) {
        auto tx = keys.begin(run);
        if (!tx) return "begin: " + tx.error().message();
        const auto window = std::to_string(run.nominal.time_since_epoch().count());
        if (auto began = tx->run(begin_.c_str(), {window, std::to_string(messages)}); !began)
            return "insert: " + began.error().message();
        if (!spawning()) return std::string("stopped while spawning the drop: nothing written");
        if (auto done = tx->run(done_.c_str(), {window}); !done) return "update: " + done.error().message();
        auto committed = tx->commit();
        if (!committed) return "commit: " + committed.error().message();
        return *committed ? spawned::dropped : spawned::stale;
    }

    /// What the database holds: drops, windows dropped more than once, and pairs of drops
    /// whose spawning overlapped.
    struct tally {
        std::int64_t drops = 0, twice = 0, overlapping = 0;
    };
    sked::result<tally, std::string> count() {
        auto row = tables_.numbers(
            "SELECT (SELECT count(*) FROM {s}.drops),"
            " (SELECT count(*) FROM (SELECT 1 FROM {s}.drops GROUP BY drop_window HAVING count(*) > 1) d),"
            " (SELECT count(*) FROM {s}.drops a JOIN {s}.drops b"
            "   ON a.drop_window < b.drop_window AND a.began < b.done AND b.began < a.done)");
        if (!row) return row.error();
        return tally{(*row)[0], (*row)[1], (*row)[2]};
    }

private:
    explicit postgres_drop_store(example::postgres_tables tables)
        : tables_(std::move(tables)),
          begin_(tables_.with_schema("INSERT INTO {s}.drops (drop_window, messages, began, done)"
                                     " VALUES (to_timestamp($1), $2, clock_timestamp(), clock_timestamp())")),
          done_(tables_.with_schema("UPDATE {s}.drops SET done = clock_timestamp() WHERE drop_window = "
                                    "to_timestamp($1)")) {}

    example::postgres_tables tables_;
    std::string begin_, done_;
};

}  // namespace drop
