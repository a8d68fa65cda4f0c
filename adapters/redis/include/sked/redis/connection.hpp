// sked/redis/connection.hpp — one hiredis connection with timeouts, AUTH and reconnects,
// to one server or, through Redis Sentinel, to the master of the moment.
//
// Not thread-safe: the classes built on it hold a mutex. A connection that failed is
// dropped, and the next call connects again, so a restarted server is picked up
// without the caller doing anything. Every failure becomes a backend_error that says
// what happened, e.g. "cannot connect to 127.0.0.1:6380: Connection refused".
#pragma once

#include <hiredis/hiredis.h>

#include <sys/time.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "sked/backend_error.hpp"
#include "sked/redis/options.hpp"
#include "sked/result.hpp"

namespace sked::redis {

namespace detail {

struct reply_deleter {
    void operator()(redisReply* reply) const noexcept { freeReplyObject(reply); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

struct context_deleter {
    void operator()(redisContext* context) const noexcept { redisFree(context); }
};

using command = std::vector<std::string>;

inline timeval to_timeval(std::chrono::milliseconds duration) {
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(duration.count() / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((duration.count() % 1000) * 1000);
    return tv;
}

inline std::string_view text_of(const redisReply& reply) { return {reply.str, static_cast<std::size_t>(reply.len)}; }

/// An error reply as a backend_error: refused credentials are `auth`, the rest `server_error`.
inline backend_error error_from_reply(const redisReply& reply, std::string_view doing) {
    const auto text = text_of(reply);
    const bool about_auth = text.starts_with("NOAUTH") || text.starts_with("WRONGPASS") || text.starts_with("NOPERM") ||
                            text.find("AUTH") != std::string_view::npos;
    return backend_error{about_auth ? backend_errc::auth : backend_errc::server_error,
                         std::string(doing) + ": " + std::string(text)};
}

inline std::string_view type_name(int type) {
    switch (type) {
        case REDIS_REPLY_STRING:
            return "a string";
        case REDIS_REPLY_ARRAY:
            return "an array";
        case REDIS_REPLY_INTEGER:
            return "an integer";
        case REDIS_REPLY_NIL:
            return "nil";
        case REDIS_REPLY_STATUS:
            return "a status";
        case REDIS_REPLY_ERROR:
            return "an error";
        default:
            return "an unknown reply";
    }
}

class connection {
public:
    explicit connection(options settings)
        : options_(std::move(settings)), target_{options_.sentinels.empty() ? options_.host : "", options_.port} {}

    [[nodiscard]] const options& settings() const noexcept { return options_; }
    [[nodiscard]] bool connected() const noexcept { return context_ != nullptr; }
    /// The server's HOST:PORT; through Sentinel, the master's last known address.
    [[nodiscard]] std::string address() const {
        return target_.host.empty() ? "master '" + options_.master_name + "'" : target_.text();
    }

    /// Sends `commands` in one write and reads one reply per command. Error replies are
    /// returned as replies; a failed connection is an error and is dropped.
    result<std::vector<reply_ptr>, backend_error> pipeline(const std::vector<command>& commands) {
        if (auto failed = send(commands)) return *std::move(failed);
        return receive(commands.size());
    }

    result<reply_ptr, backend_error> run(command args) {
        std::vector<command> one;
        one.push_back(std::move(args));
        auto replies = pipeline(one);
        if (!replies) return replies.error();
        return std::move(replies->front());
    }

    /// The first half of pipeline(), for fanning out to several servers before reading.
    std::optional<backend_error> send(const std::vector<command>& commands) {
        if (auto failed = ensure_connected()) return failed;
        return write(commands, "sending a command");
    }

    /// The second half of pipeline().
    result<std::vector<reply_ptr>, backend_error> receive(std::size_t count) {
        if (!context_) return backend_error{backend_errc::unreachable, "not connected to " + address()};
        std::vector<reply_ptr> replies;
        replies.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            void* raw = nullptr;
            if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr) return drop("waiting for a reply");
            replies.emplace_back(static_cast<redisReply*>(raw));
        }
        for (const auto& reply : replies)
            if (auto gone = not_serving(*reply)) return *std::move(gone);
        return replies;
    }

    /// Closes the connection; the next call opens a new one.
    void disconnect() noexcept { context_.reset(); }

private:
    // Appends the commands to the output buffer and writes it all.
    std::optional<backend_error> write(const std::vector<command>& commands, std::string_view doing) {
        for (const auto& args : commands)
            append(args);
        int done = 0;
        while (done == 0) {
            if (redisBufferWrite(context_.get(), &done) != REDIS_OK) return drop(doing);
        }
        return std::nullopt;
    }

    void append(const command& args) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lengths;
        argv.reserve(args.size());
        lengths.reserve(args.size());
        for (const auto& arg : args) {
            argv.push_back(arg.data());
            lengths.push_back(arg.size());
        }
        redisAppendCommandArgv(context_.get(), static_cast<int>(args.size()), argv.data(), lengths.data());
    }

    std::optional<backend_error> ensure_connected() {
        if (context_ && !master_check_due()) return std::nullopt;
        if (options_.sentinels.empty()) return open(target_);
        if (context_ && still_master()) return std::nullopt;
        context_.reset();
        return open_master();
    }

    [[nodiscard]] bool master_check_due() const {
        return !options_.sentinels.empty() && options_.sentinel_check.count() > 0 &&
               std::chrono::steady_clock::now() - checked_at_ >= options_.sentinel_check;
    }

    // Whether the sentinel that named the master last names it still. One that does not
    // answer proves nothing: the connection is kept, and errors will tell.
    bool still_master() {
        checked_at_ = std::chrono::steady_clock::now();
        auto named = ask_sentinel(first_sentinel_);
        return !named || *named == target_;
    }

    // Through Sentinel: asks the sentinels in turn, starting with the one that answered
    // last, and connects to the first master one of them names that says it is one.
    std::optional<backend_error> open_master() {
        std::string why;
        std::size_t unknown = 0;
        const auto count = options_.sentinels.size();
        for (std::size_t i = 0; i < count; ++i) {
            auto named = ask_sentinel((first_sentinel_ + i) % count);
            if (named) target_ = *named;
            auto failed = named ? open(*named) : std::optional{named.error()};
            if (!failed) {
                first_sentinel_ = (first_sentinel_ + i) % count;
                checked_at_ = std::chrono::steady_clock::now();
                return std::nullopt;
            }
            if (failed->code == backend_errc::server_error) ++unknown;
            why += (why.empty() ? "" : "; ") + failed->detail;
        }
        // Every sentinel that answered not knowing the name is a mistake in the settings,
        // not an outage.
        return backend_error{unknown == count ? backend_errc::server_error : backend_errc::unreachable,
                             "no sentinel led to a master named '" + options_.master_name + "': " + why};
    }

    // One sentinel's answer to SENTINEL get-master-addr-by-name. The connection to the
    // sentinel asked last is kept: the periodic check asks it again and again.
    result<endpoint, backend_error> ask_sentinel(std::size_t index) {
        const auto& sentinel = options_.sentinels[index];
        if (!sentinel_link_ || sentinel_asked_ != index) {
            sentinel_link_ = std::make_unique<connection>(options{.host = sentinel.host,
                                                                  .port = sentinel.port,
                                                                  .password = options_.sentinel_password,
                                                                  .connect_timeout = options_.connect_timeout,
                                                                  .command_timeout = options_.command_timeout});
            sentinel_asked_ = index;
        }
        auto reply = sentinel_link_->run({"SENTINEL", "get-master-addr-by-name", options_.master_name});
        if (!reply) return reply.error();
        const auto& answer = **reply;
        const auto where = "sentinel " + sentinel.text();
        if (answer.type == REDIS_REPLY_NIL)
            return backend_error{backend_errc::server_error,
                                 where + " knows no master named '" + options_.master_name + "'"};
        if (answer.type == REDIS_REPLY_ERROR) return error_from_reply(answer, where);
        if (answer.type == REDIS_REPLY_ARRAY && answer.elements == 2 && answer.element[0]->type == REDIS_REPLY_STRING &&
            answer.element[1]->type == REDIS_REPLY_STRING) {
            const auto host = text_of(*answer.element[0]), digits = text_of(*answer.element[1]);
            int port = 0;
            const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
            if (!host.empty() && error == std::errc{} && end == digits.data() + digits.size() && port > 0 &&
                port <= 65535)
                return endpoint{std::string(host), port};
        }
        return backend_error{backend_errc::protocol, where + " answered " + std::string(type_name(answer.type)) +
                                                         " where an address was expected"};
    }

    std::optional<backend_error> open(const endpoint& server) {
        context_.reset(redisConnectWithTimeout(server.host.c_str(), server.port, to_timeval(options_.connect_timeout)));
        if (!context_) return backend_error{backend_errc::unreachable, "cannot allocate a connection"};
        if (context_->err != 0) {
            const int saved_errno = errno;
            backend_error error{classify(context_->err, saved_errno),
                                "cannot connect to " + server.text() + ": " + context_->errstr};
            context_.reset();
            return error;
        }
        redisSetTimeout(context_.get(), to_timeval(options_.command_timeout));
        redisEnableKeepAlive(context_.get());
        return handshake(server);
    }

    // AUTH and SELECT if asked, ROLE through Sentinel, then PING: a peer that is not
    // Redis, or not the master, fails here, with a message that says so, rather than in
    // the middle of a claim.
    std::optional<backend_error> handshake(const endpoint& server) {
        std::vector<command> hello;
        if (!options_.password.empty()) {
            if (options_.user.empty()) {
                hello.push_back({"AUTH", options_.password});
            } else {
                hello.push_back({"AUTH", options_.user, options_.password});
            }
        }
        if (options_.database != 0) hello.push_back({"SELECT", std::to_string(options_.database)});
        const bool check_role = !options_.sentinels.empty();
        if (check_role) hello.push_back({"ROLE"});
        hello.push_back({"PING"});
        if (auto failed = write(hello, "sending the handshake")) return failed;
        auto replies = receive(hello.size());
        if (!replies) return replies.error();
        for (const auto& reply : *replies) {
            if (reply->type == REDIS_REPLY_ERROR) {
                auto error = error_from_reply(*reply, "handshake with " + server.text());
                context_.reset();
                return error;
            }
        }
        const auto& pong = *replies->back();
        if (pong.type != REDIS_REPLY_STATUS || text_of(pong) != "PONG") {
            context_.reset();
            return backend_error{backend_errc::protocol,
                                 server.text() + " answered PING with " + std::string(type_name(pong.type))};
        }
        if (check_role) return expect_master(*(*replies)[replies->size() - 2], server);
        return std::nullopt;
    }

    // A sentinel named `server` as the master; ROLE says whether it still is one (a
    // sentinel cut off from the others may name a master that a failover demoted).
    std::optional<backend_error> expect_master(const redisReply& role, const endpoint& server) {
        const bool listed =
            role.type == REDIS_REPLY_ARRAY && role.elements > 0 && role.element[0]->type == REDIS_REPLY_STRING;
        const auto said = listed ? std::string(text_of(*role.element[0])) : std::string(type_name(role.type));
        if (said == "master") return std::nullopt;
        context_.reset();
        return backend_error{backend_errc::unreachable, "a sentinel named " + server.text() + " as master '" +
                                                            options_.master_name + "', but its ROLE is " + said};
    }

    // An error reply that means this server does not serve sked's writes now: a replica
    // (READONLY: a failover demoted it), a server still loading its data or cut off
    // from its master (LOADING, MASTERDOWN), or a cluster that misses a master, or
    // whose slot is half migrated (CLUSTERDOWN, TRYAGAIN). The connection is dropped,
    // so the next call connects again, through Sentinel to the master of the moment.
    std::optional<backend_error> not_serving(const redisReply& reply) {
        if (reply.type != REDIS_REPLY_ERROR) return std::nullopt;
        const auto text = text_of(reply);
        for (std::string_view code : {"READONLY", "LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"}) {
            if (text.starts_with(code)) {
                context_.reset();
                return backend_error{backend_errc::unreachable,
                                     address() + " does not serve writes now: " + std::string(text)};
            }
        }
        return std::nullopt;
    }

    static backend_errc classify(int hiredis_error, int saved_errno) {
        if (hiredis_error == REDIS_ERR_PROTOCOL) return backend_errc::protocol;
        if (hiredis_error == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
                                              saved_errno == ETIMEDOUT || saved_errno == EINPROGRESS)) {
            return backend_errc::timeout;
        }
        return backend_errc::unreachable;
    }

    backend_error drop(std::string_view doing) {
        const int saved_errno = errno;
        const int code = context_->err;
        std::string why = context_->errstr;
        if (code == REDIS_ERR_EOF) why = "the server closed the connection";
        if (code == REDIS_ERR_PROTOCOL) why = "not a Redis reply (" + why + ")";
        const auto kind = classify(code, saved_errno);
        if (kind == backend_errc::timeout)
            why = "no reply within " + std::to_string(options_.command_timeout.count()) + " ms";
        context_.reset();
        return backend_error{kind, std::string(doing) + " on " + address() + ": " + why};
    }

    options options_;
    endpoint target_;  // the server; through Sentinel, the master last named (empty host: none yet)
    std::size_t first_sentinel_ = 0;  // the sentinel that named the master last: asked first
    std::unique_ptr<connection> sentinel_link_;  // to the sentinel asked last
    std::size_t sentinel_asked_ = 0;
    std::chrono::steady_clock::time_point checked_at_{};  // when a sentinel last named target_
    std::unique_ptr<redisContext, context_deleter> context_;
};

}  // namespace detail
}  // namespace sked::redis
