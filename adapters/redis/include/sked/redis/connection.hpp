// sked/redis/connection.hpp — one hiredis connection with timeouts, AUTH and reconnects.
//
// Not thread-safe: the classes built on it hold a mutex. A connection that failed is
// dropped, and the next call connects again, so a restarted server is picked up
// without the caller doing anything. Every failure becomes a backend_error that says
// what happened, e.g. "cannot connect to 127.0.0.1:6380: Connection refused".
#pragma once

#include <hiredis/hiredis.h>

#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sked/backend_error.hpp"
#include "sked/result.hpp"

namespace sked::redis {

/// Where and how to reach one Redis server, and how sked names its keys there.
struct options {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string user{};  ///< ACL user name; empty for the default user
    std::string password{};  ///< empty: no AUTH
    int database = 0;  ///< SELECT this database after connecting
    std::chrono::milliseconds connect_timeout{500};
    std::chrono::milliseconds command_timeout{500};  ///< for each reply; a call never waits longer
    /// Keys are "<prefix>:lock:{<name>}" and "<prefix>:key:{<key>}": one prefix per
    /// application sharing a server.
    std::string prefix = "sked";
    /// How long a name's record, and with it its fencing counter, outlives its last
    /// lease. Past it, tokens still grow by the server clock (docs/locks.md).
    std::chrono::milliseconds fence_memory = std::chrono::hours{24};
};

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
    explicit connection(options settings) : options_(std::move(settings)) {}

    [[nodiscard]] const options& settings() const noexcept { return options_; }
    [[nodiscard]] bool connected() const noexcept { return context_ != nullptr; }
    [[nodiscard]] std::string address() const { return options_.host + ":" + std::to_string(options_.port); }

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
        if (context_) return std::nullopt;
        context_.reset(
            redisConnectWithTimeout(options_.host.c_str(), options_.port, to_timeval(options_.connect_timeout)));
        if (!context_) return backend_error{backend_errc::unreachable, "cannot allocate a connection"};
        if (context_->err != 0) {
            const int saved_errno = errno;
            backend_error error{classify(context_->err, saved_errno),
                                "cannot connect to " + address() + ": " + context_->errstr};
            context_.reset();
            return error;
        }
        redisSetTimeout(context_.get(), to_timeval(options_.command_timeout));
        redisEnableKeepAlive(context_.get());
        return handshake();
    }

    // AUTH and SELECT if asked, then PING: a peer that is not Redis fails here, with
    // a message that says so, rather than in the middle of a claim.
    std::optional<backend_error> handshake() {
        std::vector<command> hello;
        if (!options_.password.empty()) {
            if (options_.user.empty()) {
                hello.push_back({"AUTH", options_.password});
            } else {
                hello.push_back({"AUTH", options_.user, options_.password});
            }
        }
        if (options_.database != 0) hello.push_back({"SELECT", std::to_string(options_.database)});
        hello.push_back({"PING"});
        if (auto failed = write(hello, "sending the handshake")) return failed;
        auto replies = receive(hello.size());
        if (!replies) return replies.error();
        for (const auto& reply : *replies) {
            if (reply->type == REDIS_REPLY_ERROR) {
                auto error = error_from_reply(*reply, "handshake with " + address());
                context_.reset();
                return error;
            }
        }
        const auto& pong = *replies->back();
        if (pong.type != REDIS_REPLY_STATUS || text_of(pong) != "PONG") {
            context_.reset();
            return backend_error{backend_errc::protocol,
                                 address() + " answered PING with " + std::string(type_name(pong.type))};
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
    std::unique_ptr<redisContext, context_deleter> context_;
};

}  // namespace detail
}  // namespace sked::redis
