// sked/postgres/connection.hpp — one libpq connection with a deadline on every call.
//
// libpq's blocking calls wait as long as the server takes: a server that hangs (SIGSTOP,
// a dead host behind a live route) would hang the scheduler. So every call is sent
// with libpq's asynchronous API and waited for with poll() until the call's deadline;
// past it the connection is dropped (the next call connects again) and the call fails
// as a timeout. The server also cancels a statement that outlives command_timeout
// (statement_timeout), so a dropped call does not run on.
#pragma once

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sked/backend_error.hpp"
#include "sked/result.hpp"

#include "options.hpp"

namespace sked::postgres::detail {

struct result_deleter {
    void operator()(PGresult* rows) const noexcept { PQclear(rows); }
};
/// A statement's answer (its rows, or its status): owned, freed with PQclear.
using rows_ptr = std::unique_ptr<PGresult, result_deleter>;

struct connection_deleter {
    void operator()(PGconn* link) const noexcept { PQfinish(link); }
};

/// A NOTIFY that arrived on a channel the session listens to.
struct notice {
    std::string channel, payload;
};

/// The text of a column of a row ("" for NULL).
inline std::string_view text_at(const PGresult& rows, int row, int column) {
    return {PQgetvalue(&rows, row, column), static_cast<std::size_t>(PQgetlength(&rows, row, column))};
}

/// An integer column, or a protocol error naming what was read.
inline result<std::int64_t, backend_error> integer_at(const PGresult& rows, int row, int column,
                                                      std::string_view doing) {
    const auto text = text_at(rows, row, column);
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || text.empty())
        return backend_error{backend_errc::protocol, std::string(doing) + " answered '" + std::string(text) +
                                                         "' where an integer was expected (row " + std::to_string(row) +
                                                         ", column " + std::to_string(column) + ")"};
    return value;
}

/// What a failed connection attempt was, from libpq's message: the server refused the
/// credentials, the peer is not a PostgreSQL server, or it could not be reached.
inline backend_errc classify_connect_failure(std::string_view message) {
    for (std::string_view auth :
         {"password authentication failed", "no password supplied", "authentication failed", "role \"", "pg_hba.conf"})
        if (message.find(auth) != std::string_view::npos) return backend_errc::auth;
    for (std::string_view foreign : {"invalid response to SSL negotiation", "expected authentication request",
                                     "unexpected message", "invalid message", "protocol"})
        if (message.find(foreign) != std::string_view::npos) return backend_errc::protocol;
    return backend_errc::unreachable;
}

/// A statement's error by its SQLSTATE class: a cancelled statement (statement_timeout)
/// is a timeout, a lost connection or a server shutting down is unreachable, a refused
/// login is auth, and anything else the server said is a server error.
inline backend_errc classify_sqlstate(std::string_view state) {
    if (state == "57014") return backend_errc::timeout;
    if (state.starts_with("08") || state.starts_with("57P")) return backend_errc::unreachable;
    if (state.starts_with("28")) return backend_errc::auth;
    return backend_errc::server_error;
}

/// libpq's messages end in a newline; a log line should not.
inline std::string trimmed(const char* message) {
    std::string text = message ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

class connection {
public:
    explicit connection(options settings) : settings_(std::move(settings)) {}

    /// One statement with text parameters ($1, $2, ...), answered within command_timeout.
    result<rows_ptr, backend_error> run(const char* sql, std::span<const std::string> params = {}) {
        const auto values = c_strings(params);
        return call([&](PGconn* link) {
            return PQsendQueryParams(link, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                                     nullptr, 0) == 1;
        });
    }

    /// run(), with the statement prepared once per connection (named sked_1, sked_2, ...)
    /// and executed by name after: the server parses and plans it once, not per call.
    /// For the store's own statements, a few fixed texts.
    result<rows_ptr, backend_error> run_prepared(const std::string& sql, std::span<const std::string> params) {
        // Not connected, nothing is prepared (reset() forgets it): the prepare connects.
        auto found = prepared_.find(sql);
        if (found == prepared_.end()) {
            auto name = "sked_" + std::to_string(prepared_.size() + 1);
            auto made = call([&](PGconn* link) {
                return PQsendPrepare(link, name.c_str(), sql.c_str(), static_cast<int>(params.size()), nullptr) == 1;
            });
            if (!made) return made.error();
            found = prepared_.emplace(sql, std::move(name)).first;
        }
        const auto values = c_strings(params);
        const auto& name = found->second;
        return call([&](PGconn* link) {
            return PQsendQueryPrepared(link, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                       nullptr, 0) == 1;
        });
    }

    /// Statements without parameters, separated by ';' (a migration): the last answer.
    result<rows_ptr, backend_error> run_script(const std::string& sql) {
        return call([&](PGconn* link) { return PQsendQuery(link, sql.c_str()) == 1; });
    }

    /// What arrived on the channels this session LISTENs to: waits up to `wait` for the
    /// first notice, and returns early (with none) when `interrupt` (a file descriptor)
    /// becomes readable. An error means the connection is gone.
    result<std::vector<notice>, backend_error> notices(std::chrono::milliseconds wait, int interrupt) {
        std::vector<notice> out;
        if (!link_) return backend_error{backend_errc::unreachable, "not connected to " + where()};
        if (drain(out)) return out;
        pollfd ready[] = {{PQsocket(link_.get()), POLLIN, 0}, {interrupt, POLLIN, 0}};
        const int got = ::poll(ready, 2, static_cast<int>(wait.count()));
        if (got < 0 && errno != EINTR) return dropped(backend_errc::unreachable, "waiting for " + where());
        if (got > 0 && ready[0].revents != 0 && PQconsumeInput(link_.get()) == 0)
            return dropped(backend_errc::unreachable,
                           "reading from " + where() + ": " + trimmed(PQerrorMessage(link_.get())));
        drain(out);
        return out;
    }

    /// The server this connection reached, as "host:port" (for messages); "the server"
    /// before a connection was made.
    [[nodiscard]] std::string where() const {
        if (!link_) return "the server";
        return std::string(PQhost(link_.get())) + ":" + PQport(link_.get());
    }

    [[nodiscard]] const options& settings() const noexcept { return settings_; }
    /// False before the first call and after a failure that dropped the connection.
    [[nodiscard]] bool connected() const noexcept { return link_ != nullptr; }
    /// Drops the connection; the next call connects again.
    void reset() noexcept {
        link_.reset();
        prepared_.clear();  // a new connection has prepared nothing
    }

private:
    using clock = std::chrono::steady_clock;

    // libpq takes parameters as C strings, in text format.
    static std::vector<const char*> c_strings(std::span<const std::string> params) {
        std::vector<const char*> values;
        values.reserve(params.size());
        for (const auto& param : params)
            values.push_back(param.c_str());
        return values;
    }

    // Moves the notices libpq has read into `out`; true when there were any.
    bool drain(std::vector<notice>& out) {
        while (PGnotify* n = PQnotifies(link_.get())) {
            out.push_back({n->relname, n->extra});
            PQfreemem(n);
        }
        return !out.empty();
    }

    template <class Send>
    result<rows_ptr, backend_error> call(Send&& send) {
        if (!link_) {
            if (auto failed = connect()) return *std::move(failed);
        }
        const auto deadline = clock::now() + settings_.command_timeout;
        limit_ = settings_.command_timeout;
        if (!send(link_.get())) return dropped(backend_errc::unreachable, "sending to " + where());
        if (auto failed = flush(deadline)) return *std::move(failed);
        return collect(deadline);
    }

    // Sends what libpq buffered; a large statement may need several writes.
    std::optional<backend_error> flush(clock::time_point deadline) {
        for (;;) {
            const int left = PQflush(link_.get());
            if (left == 0) return std::nullopt;
            if (left < 0) return dropped(backend_errc::unreachable, "sending to " + where());
            if (auto failed = wait_for(POLLOUT | POLLIN, deadline, "sending to")) return failed;
            if (PQconsumeInput(link_.get()) == 0) return dropped(backend_errc::unreachable, "reading from " + where());
        }
    }

    // Reads every result of the call; the first error wins, else the last result.
    result<rows_ptr, backend_error> collect(clock::time_point deadline) {
        rows_ptr last;
        std::optional<backend_error> first_error;
        for (;;) {
            while (PQisBusy(link_.get()) != 0) {
                if (auto failed = wait_for(POLLIN, deadline, "waiting for")) return *std::move(failed);
                if (PQconsumeInput(link_.get()) == 0)
                    return dropped(backend_errc::unreachable, "reading from " + where());
            }
            rows_ptr next{PQgetResult(link_.get())};
            if (!next) break;
            const auto status = PQresultStatus(next.get());
            if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR) {
                if (!first_error) first_error = error_of(*next);
            } else {
                last = std::move(next);
            }
        }
        if (first_error) {
            if (PQstatus(link_.get()) == CONNECTION_BAD) reset();
            return *std::move(first_error);
        }
        return last;
    }

    backend_error error_of(const PGresult& failed) const {
        const char* state = PQresultErrorField(&failed, PG_DIAG_SQLSTATE);
        const auto code = state ? classify_sqlstate(state) : backend_errc::unreachable;
        return {code, where() + ": " + trimmed(PQresultErrorMessage(&failed))};
    }

    // Connects within connect_timeout; the session's settings are set once here.
    std::optional<backend_error> connect() {
        const auto deadline = clock::now() + settings_.connect_timeout;
        limit_ = settings_.connect_timeout;
        const char* keywords[] = {"dbname", "fallback_application_name", nullptr};
        const char* values[] = {settings_.url.c_str(), "sked", nullptr};
        link_.reset(PQconnectStartParams(keywords, values, 1));
        if (!link_) return backend_error{backend_errc::unreachable, "libpq could not allocate a connection"};
        for (auto state = PGRES_POLLING_WRITING;;) {
            if (state == PGRES_POLLING_OK) break;
            if (state == PGRES_POLLING_FAILED || PQstatus(link_.get()) == CONNECTION_BAD) {
                const auto message = trimmed(PQerrorMessage(link_.get()));
                const auto code = classify_connect_failure(message);
                const char* hint = code == backend_errc::protocol ? " (is that port a PostgreSQL server's?)" : "";
                return dropped(code, "connecting to " + where() + ": " + message + hint);
            }
            const short wanted = state == PGRES_POLLING_READING ? POLLIN : POLLOUT;
            if (auto failed = wait_for(wanted, deadline, "connecting to")) return failed;
            state = PQconnectPoll(link_.get());
        }
        PQsetnonblocking(link_.get(), 1);
        // The server's notices (e.g. "schema ... already exists, skipping") are not errors,
        // and a library must not print to the service's stderr.
        PQsetNoticeProcessor(
            link_.get(), [](void*, const char*) {}, nullptr);
        limit_ = settings_.command_timeout;
        // bytea in hex whatever the server's default, as one_off payloads are read.
        const auto set_timeout =
            "SET statement_timeout = " + std::to_string(settings_.command_timeout.count()) + "; SET bytea_output = hex";
        if (PQsendQuery(link_.get(), set_timeout.c_str()) != 1)
            return dropped(backend_errc::unreachable, "sending to " + where());
        if (auto failed = flush(deadline)) return failed;
        auto answer = collect(deadline);
        if (!answer) return dropped(answer.error().code, answer.error().detail);
        return std::nullopt;
    }

    // Waits until the socket is ready for `events`, or fails as a timeout at `deadline`.
    std::optional<backend_error> wait_for(short events, clock::time_point deadline, std::string_view doing) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
        pollfd ready{PQsocket(link_.get()), events, 0};
        const int got = left.count() > 0 ? ::poll(&ready, 1, static_cast<int>(left.count())) : 0;
        if (got > 0) return std::nullopt;
        return dropped(
            got == 0 ? backend_errc::timeout : backend_errc::unreachable,
            std::string(doing) + " " + where() + ": no answer within " + std::to_string(limit_.count()) + " ms");
    }

    // A connection in an unknown state is not used again.
    backend_error dropped(backend_errc code, std::string detail) {
        reset();
        return {code, std::move(detail)};
    }

    options settings_;
    std::chrono::milliseconds limit_{};  // the wait of the step under way, for messages
    std::unique_ptr<PGconn, connection_deleter> link_;
    std::unordered_map<std::string, std::string> prepared_;  // statement text -> its name here
};

}  // namespace sked::postgres::detail
