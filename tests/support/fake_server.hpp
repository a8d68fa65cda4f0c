// A loopback TCP server that is not quite Redis, for testing how clients fail: it
// answers each RESP command with whatever `respond` returns (raw bytes), or sends
// `greeting` bytes and closes, or stays silent. It listens on 127.0.0.1 only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sked::test {

class fake_server {
public:
    using responder = std::function<std::string(const std::vector<std::string>& command)>;

    /// Answers RESP commands through `respond`.
    static fake_server speaking(responder respond) { return fake_server{std::move(respond), std::nullopt}; }
    /// Sends `bytes` as soon as a client connects, then closes (an HTTP server, say).
    static fake_server sending(std::string bytes) { return fake_server{{}, std::move(bytes)}; }
    /// Accepts connections and never answers.
    static fake_server silent() { return fake_server{{}, std::nullopt}; }

    fake_server(fake_server&&) = delete;
    ~fake_server() {
        worker_.request_stop();
        worker_ = {};
        ::close(listener_);
    }

    [[nodiscard]] int port() const noexcept { return port_; }

private:
    fake_server(responder respond, std::optional<std::string> greeting)
        : respond_(std::move(respond)), greeting_(std::move(greeting)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 16) != 0) {
            throw std::runtime_error("fake_server: cannot listen");
        }
        socklen_t length = sizeof address;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        worker_ = std::jthread([this](std::stop_token stop) { serve(stop); });
    }

    void serve(const std::stop_token& stop) {
        std::vector<int> clients;
        while (!stop.stop_requested()) {
            std::vector<pollfd> watched{{listener_, POLLIN, 0}};
            for (int fd : clients)
                watched.push_back({fd, POLLIN, 0});
            if (::poll(watched.data(), watched.size(), 20) <= 0) continue;
            if (watched[0].revents & POLLIN) {
                const int client = ::accept(listener_, nullptr, nullptr);
                if (client >= 0 && greeting_) {
                    (void)::write(client, greeting_->data(), greeting_->size());
                    ::close(client);
                } else if (client >= 0) {
                    clients.push_back(client);
                    buffers_.emplace_back();
                }
            }
            for (std::size_t i = 1; i < watched.size(); ++i) {
                if (watched[i].revents & POLLIN) answer(i - 1, clients);
            }
        }
        for (int fd : clients)
            ::close(fd);
    }

    void answer(std::size_t index, std::vector<int>& clients) {
        char chunk[4096];
        const auto got = ::read(clients[index], chunk, sizeof chunk);
        if (got <= 0) return;
        if (!respond_) return;  // silent
        auto& buffer = buffers_[index];
        buffer.append(chunk, static_cast<std::size_t>(got));
        while (auto command = take_command(buffer)) {
            const auto reply = respond_(*command);
            (void)::write(clients[index], reply.data(), reply.size());
        }
    }

    // One RESP array of bulk strings from the front of `buffer`, if it is all there.
    static std::optional<std::vector<std::string>> take_command(std::string& buffer) {
        std::size_t at = 0;
        const auto number = [&](char prefix) -> std::optional<long> {
            if (at >= buffer.size() || buffer[at] != prefix) return std::nullopt;
            const auto end = buffer.find("\r\n", at);
            if (end == std::string::npos) return std::nullopt;
            const long value = std::stol(buffer.substr(at + 1, end - at - 1));
            at = end + 2;
            return value;
        };
        const auto count = number('*');
        if (!count) return std::nullopt;
        std::vector<std::string> command;
        for (long i = 0; i < *count; ++i) {
            const auto length = number('$');
            if (!length || at + static_cast<std::size_t>(*length) + 2 > buffer.size()) return std::nullopt;
            command.push_back(buffer.substr(at, static_cast<std::size_t>(*length)));
            at += static_cast<std::size_t>(*length) + 2;
        }
        buffer.erase(0, at);
        return command;
    }

    responder respond_;
    std::optional<std::string> greeting_;
    int listener_ = -1;
    int port_ = 0;
    std::vector<std::string> buffers_;
    std::jthread worker_;
};

}  // namespace sked::test
