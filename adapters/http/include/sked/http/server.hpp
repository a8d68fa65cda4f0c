// sked/http/server.hpp — sked's endpoints (sked/http/handler.hpp) served by Boost.Beast
// on an io_context the service already runs.
//
//     sked::http::server web{io.get_executor(), s, {.port = 3000, .handler = {.token = token}}};
//     web.start();                        // http://127.0.0.1:3000/health, /metrics, ...
//     ...
//     web.stop();
//
// Beast parses every request; the limits are its parser's. A request must arrive whole
// within read_timeout (a slow client is closed, not waited for); its header part is at
// most max_header_bytes (else 431) and its body max_body_bytes (else 413). At most
// max_connections are open: a new one beyond that closes the connection that has waited
// longest for its next request, so idle or slow clients never keep /health from
// answering. It listens on 127.0.0.1 unless told otherwise.
#pragma once

#include <utility>  // before Boost.Asio: see sked/asio/net.hpp

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "handler.hpp"

namespace sked::http {

struct server_options {
    std::string address = "127.0.0.1";
    unsigned short port = 0;  ///< 0: a free port (see server::port())
    handler_options handler{};
    std::size_t max_connections = 64;
    std::chrono::milliseconds read_timeout{5'000};
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 16 * 1024;
};

namespace detail {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

// A connection's waiting state, shared with the server's list so that the server can
// find the one that has waited longest and close it.
struct connection_slot {
    std::chrono::steady_clock::time_point waiting_since{};
    bool waiting = false;
    std::function<void()> close;  // posts a close to the connection's strand
};

class connection_list {
public:
    explicit connection_list(std::size_t limit) : limit_(limit) {}

    // Makes room for one more: closes the connection waiting longest when at the limit.
    std::shared_ptr<connection_slot> admit() {
        std::lock_guard hold{mutex_};
        open_.remove_if([](const std::weak_ptr<connection_slot>& c) { return c.expired(); });
        if (open_.size() >= limit_) evict_longest_waiting();
        auto slot = std::make_shared<connection_slot>();
        open_.push_back(slot);
        return slot;
    }
    void set_waiting(connection_slot& slot, bool waiting) {
        std::lock_guard hold{mutex_};
        slot.waiting = waiting;
        slot.waiting_since = std::chrono::steady_clock::now();
    }
    void close_all() {
        std::lock_guard hold{mutex_};
        for (auto& weak : open_)
            if (auto c = weak.lock(); c && c->close) c->close();
        open_.clear();
    }

private:
    void evict_longest_waiting() {
        std::shared_ptr<connection_slot> longest;
        for (auto& weak : open_) {
            auto c = weak.lock();
            if (c && c->waiting && (!longest || c->waiting_since < longest->waiting_since)) longest = c;
        }
        if (longest && longest->close) {
            longest->waiting = false;
            longest->close();
        }
    }

    std::mutex mutex_;
    std::size_t limit_;
    std::list<std::weak_ptr<connection_slot>> open_;
};

class session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, scheduler& engine, std::shared_ptr<const server_options> options,
            std::shared_ptr<connection_list> list)
        : stream_(std::move(socket)),
          engine_(engine),
          options_(std::move(options)),
          list_(std::move(list)),
          slot_(list_->admit()) {}

    void start() {
        slot_->close = [weak = weak_from_this()] {
            if (auto self = weak.lock())
                net::post(self->stream_.get_executor(), [self] { self->stream_.socket().close(); });
        };
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
    }

private:
    void read() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(options_->max_header_bytes));
        parser_->body_limit(options_->max_body_bytes);
        list_->set_waiting(*slot_, true);
        stream_.expires_after(options_->read_timeout);
        beast::http::async_read(stream_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) { self->got(ec); });
    }

    void got(beast::error_code ec) {
        list_->set_waiting(*slot_, false);
        if (ec == beast::http::error::end_of_stream || ec == beast::error::timeout ||
            ec == net::error::operation_aborted)
            return close();
        if (ec == beast::http::error::header_limit) return reply_error(431, "the request's header is too large");
        if (ec == beast::http::error::body_limit) return reply_error(413, "the request's body is too large");
        if (ec) return reply_error(400, "the request is malformed: " + ec.message());
        answer(parser_->get());
    }

    void answer(const beast::http::request<beast::http::string_body>& request) {
        std::vector<header> headers;
        for (const auto& field : request)
            headers.push_back({std::string_view{field.name_string().data(), field.name_string().size()},
                               std::string_view{field.value().data(), field.value().size()}});
        const std::string_view method{request.method_string().data(), request.method_string().size()};
        const std::string_view target{request.target().data(), request.target().size()};
        auto r = handle(engine_, method, target, headers, options_->handler);
        send(std::move(r), request.version(), request.keep_alive(), request.method() == beast::http::verb::head);
    }

    void reply_error(unsigned status, std::string_view message) {
        send(::sked::http::detail::error_reply(status, message), 11, false, false);
    }

    void send(response r, unsigned version, bool keep_alive, bool head) {
        if (head) {  // what GET would say, without the body
            auto out = std::make_shared<beast::http::response<beast::http::empty_body>>(
                static_cast<beast::http::status>(r.status), version);
            fill(*out, r, keep_alive);
            out->content_length(r.body.size());
            return write(out, keep_alive);
        }
        auto out = std::make_shared<beast::http::response<beast::http::string_body>>(
            static_cast<beast::http::status>(r.status), version);
        fill(*out, r, keep_alive);
        out->body() = std::move(r.body);
        out->prepare_payload();
        write(out, keep_alive);
    }

    template <class Message>
    static void fill(Message& out, const response& r, bool keep_alive) {
        out.set(beast::http::field::server, "sked");
        out.set(beast::http::field::content_type, r.content_type);
        for (const auto& [name, value] : r.headers)
            out.set(name, value);
        out.keep_alive(keep_alive);
    }

    template <class Message>
    void write(std::shared_ptr<Message> out, bool keep_alive) {
        stream_.expires_after(options_->read_timeout);
        beast::http::async_write(stream_, *out,
                                 [self = shared_from_this(), out, keep_alive](beast::error_code ec, std::size_t) {
                                     if (ec || !keep_alive) return self->close();
                                     self->read();
                                 });
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
    scheduler& engine_;
    std::shared_ptr<const server_options> options_;
    std::shared_ptr<connection_list> list_;
    std::shared_ptr<connection_slot> slot_;
};

}  // namespace detail

class server {
public:
    /// Binds now (a bad address or a taken port throws std::runtime_error naming it);
    /// start() begins accepting.
    server(boost::asio::any_io_executor io, scheduler& engine, server_options options = {})
        : listener_(std::make_shared<listener>(std::move(io), engine, std::move(options))) {}
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    /// Stops; the closes happen on the io_context, which must outlive them, as the
    /// scheduler must outlive the connections.
    ~server() { stop(); }

    void start() {
        boost::asio::post(listener_->acceptor.get_executor(), [l = listener_] { l->accept(); });
    }
    /// Stops accepting and closes every connection (from any thread).
    void stop() {
        boost::asio::post(listener_->acceptor.get_executor(), [l = listener_] {
            boost::system::error_code ignored;
            l->acceptor.close(ignored);
        });
        listener_->connections->close_all();
    }
    [[nodiscard]] unsigned short port() const noexcept { return listener_->port; }

private:
    struct listener : std::enable_shared_from_this<listener> {
        listener(boost::asio::any_io_executor ex, scheduler& e, server_options o)
            : io(std::move(ex)),
              engine(e),
              options(std::make_shared<const server_options>(std::move(o))),
              acceptor(boost::asio::make_strand(io)),
              connections(std::make_shared<detail::connection_list>(options->max_connections)) {
            namespace net = boost::asio;
            boost::system::error_code ec;
            const auto address = net::ip::make_address(options->address, ec);
            if (ec) throw std::runtime_error("sked::http::server: '" + options->address + "' is not an IP address");
            const detail::tcp::endpoint at{address, options->port};
            acceptor.open(at.protocol(), ec);
            if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
            if (!ec) acceptor.bind(at, ec);
            if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
            if (ec)
                throw std::runtime_error("sked::http::server: cannot listen on " + options->address + ":" +
                                         std::to_string(options->port) + ": " + ec.message());
            port = acceptor.local_endpoint().port();
        }

        void accept() {
            acceptor.async_accept(boost::asio::make_strand(io), [self = shared_from_this()](
                                                                    boost::system::error_code ec,
                                                                    detail::tcp::socket socket) {
                if (!self->acceptor.is_open()) return;
                if (!ec)
                    std::make_shared<detail::session>(std::move(socket), self->engine, self->options, self->connections)
                        ->start();
                self->accept();
            });
        }

        boost::asio::any_io_executor io;
        scheduler& engine;
        std::shared_ptr<const server_options> options;
        detail::tcp::acceptor acceptor;
        std::shared_ptr<detail::connection_list> connections;
        unsigned short port = 0;
    };

    std::shared_ptr<listener> listener_;
};

}  // namespace sked::http
