// sked/json.hpp — a JSON string literal for any text.
//
//     out += sked::json_quoted(job.name);     // "fails \"quoted\"" -> "\"fails \\\"quoted\\\"\""
//
// sked writes JSON in three places (the status endpoint, `sked plan --json`, the examples'
// audit lines) and they all quote text here: '"' and '\' are escaped, control characters
// become \u00XX, every other byte is copied as it is.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace sked {

/// Appends `text` to `out` as a JSON string, quotes included.
inline void append_json_quoted(std::string& out, std::string_view text) {
    out += '"';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
            out += escaped;
        } else {
            out += c;
        }
    }
    out += '"';
}

/// `text` as a JSON string, quotes included.
inline std::string json_quoted(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    append_json_quoted(out, text);
    return out;
}

}  // namespace sked
