// libFuzzer target for the PostgreSQL store's text codecs (sked/postgres/store.hpp): a
// bytea column in hex output (the server's reply) decodes, or is refused, without
// reading past its end; whatever decodes encodes back to the same text; any bytes
// encode and decode to themselves. An array literal has one element per item, each
// opened and closed by an unescaped quote. A NOTIFY payload (listener.hpp) is read only
// for its own schema, and what migration 3 writes reads back.
#include <sked/postgres/listener.hpp>
#include <sked/postgres/store.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

void bytea_round_trip(std::string_view text) {
    if (const auto bytes = sked::postgres::detail::bytes_of(text)) {
        if (sked::postgres::detail::bytea_text(*bytes) != text) std::abort();
    }
    const auto again = sked::postgres::detail::bytes_of(sked::postgres::detail::bytea_text(text));
    if (!again || *again != text) std::abort();
}

// Splits the input at '|' into items and counts the literal's unescaped quotes.
void array_literal_shape(std::string_view text) {
    std::vector<std::string> items;
    for (std::size_t start = 0;;) {
        const auto bar = text.find('|', start);
        items.emplace_back(text.substr(start, bar == std::string_view::npos ? text.size() - start : bar - start));
        if (bar == std::string_view::npos) break;
        start = bar + 1;
    }
    const auto literal = sked::postgres::detail::array_literal(
        items, [](const std::string& item) { return std::optional<std::string>{item}; });
    if (literal.front() != '{' || literal.back() != '}') std::abort();
    std::size_t quotes = 0;
    for (std::size_t i = 1; i + 1 < literal.size(); ++i) {
        if (literal[i] == '\\') {
            ++i;  // the escaped character
            continue;
        }
        if (literal[i] == '"') ++quotes;
    }
    if (quotes != 2 * items.size()) std::abort();
}

// The input up to its first '|' is the schema; the rest is read as a payload, and used
// as a kind in a payload made as migration 3 makes it.
void due_notice(std::string_view text) {
    const auto bar = text.find('|');
    if (bar == std::string_view::npos) return;
    const auto schema = text.substr(0, bar), rest = text.substr(bar + 1);
    if (const auto read = sked::postgres::detail::due_notice_of(rest, schema)) {
        const std::string tail = std::string(schema) + std::string(read->kind);
        if (read->kind.empty() || !rest.ends_with(tail)) std::abort();
    }
    const auto made = "1765000000000 " + std::to_string(schema.size()) + " " + std::string(schema) + std::string(rest);
    const auto back = sked::postgres::detail::due_notice_of(made, schema);
    if (rest.empty() ? back.has_value() : !back || back->kind != rest) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    bytea_round_trip(text);
    array_literal_shape(text);
    due_notice(text);
    return 0;
}
