// sked/backend_error.hpp — why a lock or key-store call failed.
//
// Backends never throw across sked: every fallible call returns result<T, backend_error>.
// The code is for programs to branch on (retry on `unreachable` or `timeout`, alert on
// `auth`); the detail is for people, and quotes the server where there is one:
//     unreachable: cannot connect to 127.0.0.1:6380: Connection refused
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

namespace sked {

enum class backend_errc : std::uint8_t {
    unreachable = 1,  ///< no connection, or the server closed it; retrying later may work
    timeout,  ///< no reply within the configured time; the call may or may not have taken effect
    protocol,  ///< the peer answered something that is not the expected reply (not Redis?)
    auth,  ///< the server refused the credentials, or wants some
    server_error,  ///< the server answered with an error (out of memory, wrong key type, ...)
    invalid_argument,  ///< a name, key or duration sked refuses before sending anything
    no_quorum,  ///< Redlock: too few servers answered to decide (keep last)
};

namespace detail {
// Index 0 is no error: the codes start at 1, as std::error_code wants.
inline constexpr std::string_view backend_errc_names[] = {"ok",   "unreachable",  "timeout",          "protocol",
                                                          "auth", "server_error", "invalid_argument", "no_quorum"};
static_assert(std::size(backend_errc_names) == static_cast<std::size_t>(backend_errc::no_quorum) + 1,
              "sked::backend_errc: one name per enumerator, in order");
}  // namespace detail

/// A short identifier of the code, e.g. "unreachable".
constexpr std::string_view to_string(backend_errc code) noexcept {
    return detail::backend_errc_names[static_cast<unsigned>(code)];
}

struct backend_error {
    backend_errc code{};
    std::string detail;  ///< what happened, for a log line

    /// "code: detail", e.g. "auth: WRONGPASS invalid username-password pair".
    [[nodiscard]] std::string message() const {
        std::string text{to_string(code)};
        if (!detail.empty()) text.append(": ").append(detail);
        return text;
    }

    friend bool operator==(const backend_error&, const backend_error&) = default;
};

}  // namespace sked
