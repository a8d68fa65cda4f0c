// examples/harness/postgres_tables.hpp — an example's own tables in PostgreSQL (--postgres):
// one libpq connection to create them and, at the end, to ask what they hold, as a
// service's own code would. The job's writes do not go through it: they go through the
// run's transaction (sked::postgres::keys::begin), so they commit with the run key.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sked/result.hpp>

namespace example {

class postgres_tables {
public:
    /// Connects to `url`; `setup` (SQL with {s} for the quoted `schema`) runs in one
    /// transaction under an advisory lock, since replicas in several processes start at once.
    static sked::result<postgres_tables, std::string> open(const std::string& url, const std::string& schema,
                                                           const std::string& setup) {
        postgres_tables tables{url};
        if (PQstatus(tables.link_.get()) != CONNECTION_OK)
            return "--postgres: " + std::string(PQerrorMessage(tables.link_.get()));
        char* quoted = PQescapeIdentifier(tables.link_.get(), schema.c_str(), schema.size());
        if (quoted == nullptr) return "--postgres: schema " + schema + ": " + PQerrorMessage(tables.link_.get());
        tables.schema_ = quoted;
        PQfreemem(quoted);
        // One query string is one transaction (the simple protocol's implicit one).
        const auto locked = "SELECT pg_advisory_xact_lock(hashtext('sked example tables')); " + setup;
        if (auto failed = tables.exec(locked)) return "setting up the example's tables: " + *failed;
        return tables;
    }

    /// `sql` with every {s} replaced by the quoted schema name.
    [[nodiscard]] std::string with_schema(std::string sql) const {
        for (auto at = sql.find("{s}"); at != std::string::npos; at = sql.find("{s}", at + schema_.size()))
            sql.replace(at, 3, schema_);
        return sql;
    }

    /// Runs `sql` ({s}: the schema); the server's error when it fails.
    std::optional<std::string> exec(const std::string& sql) {
        rows_ptr rows{PQexec(link_.get(), with_schema(sql).c_str())};
        const auto status = PQresultStatus(rows.get());
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return std::nullopt;
        return error_of(rows.get());
    }

    /// The first row of `sql` ({s}: the schema), every column an integer.
    sked::result<std::vector<std::int64_t>, std::string> numbers(const std::string& sql) {
        rows_ptr rows{PQexec(link_.get(), with_schema(sql).c_str())};
        if (PQresultStatus(rows.get()) != PGRES_TUPLES_OK || PQntuples(rows.get()) != 1)
            return "counting: " + error_of(rows.get());
        std::vector<std::int64_t> row;
        for (int column = 0; column < PQnfields(rows.get()); ++column)
            row.push_back(PQgetisnull(rows.get(), 0, column) ? 0 : std::stoll(PQgetvalue(rows.get(), 0, column)));
        return row;
    }

private:
    struct finish {
        void operator()(PGconn* link) const noexcept { PQfinish(link); }
    };
    struct clear {
        void operator()(PGresult* rows) const noexcept { PQclear(rows); }
    };
    using rows_ptr = std::unique_ptr<PGresult, clear>;

    explicit postgres_tables(const std::string& url) : link_(PQconnectdb(url.c_str())) {
        if (PQstatus(link_.get()) == CONNECTION_OK)
            PQsetNoticeProcessor(
                link_.get(), [](void*, const char*) {}, nullptr);  // "already exists, skipping"
    }

    std::string error_of(const PGresult* rows) const {
        std::string text = rows ? PQresultErrorMessage(rows) : PQerrorMessage(link_.get());
        if (text.empty()) text = "expected one row";
        while (!text.empty() && text.back() == '\n')
            text.pop_back();
        return text;
    }

    std::unique_ptr<PGconn, finish> link_;
    std::string schema_;
};

}  // namespace example
