// tools/sked/service_url.hpp — a replica's address as `sked status` and the control
// commands take it: http://HOST[:PORT][/PREFIX] or HOST:PORT. Apart from the HTTP client
// so that the fuzzer (tests/fuzz/status_text.fuzz.cpp) needs no Boost.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sked::tool {

/// Where a replica serves: host, port and the path its routes hang under.
struct endpoint {
    std::string text;  ///< as given, for messages
    std::string host{}, port = "80", prefix{};
};

/// http://HOST[:PORT][/PREFIX] or HOST:PORT; an error names what is wrong.
inline std::optional<endpoint> parse_url(std::string_view url, std::string& problem) {
    endpoint e{.text = std::string(url)};
    const auto scheme_end = url.find("://");
    if (scheme_end != std::string_view::npos) {
        const auto scheme = url.substr(0, scheme_end);
        if (scheme != "http")
            return problem = "'" + e.text +
                             "': only http:// is supported (a service's endpoints are plain HTTP on a private address; "
                             "reach one over TLS through a tunnel)",
                   std::nullopt;
        url.remove_prefix(scheme_end + 3);
    }
    const auto slash = url.find('/');
    auto authority = url.substr(0, slash);
    if (slash != std::string_view::npos) e.prefix = std::string(url.substr(slash));
    while (e.prefix.ends_with('/'))
        e.prefix.pop_back();
    if (authority.empty()) return problem = "'" + e.text + "': no host (expected http://HOST:PORT)", std::nullopt;
    if (authority.find('@') != std::string_view::npos)
        return problem = "'" + e.text + "': user info is not supported; give the token with --token", std::nullopt;
    std::string_view host = authority;
    if (authority.front() == '[') {  // [::1]:3000
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return problem = "'" + e.text + "': an unclosed [ in the host", std::nullopt;
        host = authority.substr(1, close - 1);
        authority.remove_prefix(close + 1);
        if (!authority.empty() && authority.front() != ':')
            return problem = "'" + e.text + "': expected :PORT after the [address]", std::nullopt;
        if (!authority.empty()) e.port = std::string(authority.substr(1));
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        e.port = std::string(authority.substr(colon + 1));
    }
    e.host = std::string(host);
    const bool digits =
        !e.port.empty() && e.port.size() <= 5 && e.port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stol(e.port) < 1 || std::stol(e.port) > 65535)
        return problem = "'" + e.text + "': the port must be a number from 1 to 65535", std::nullopt;
    if (e.host.empty()) return problem = "'" + e.text + "': no host (expected http://HOST:PORT)", std::nullopt;
    return e;
}

}  // namespace sked::tool
