#pragma once
// The one way JSON from users enters dsegym (command-line arguments, config,
// spec, workload and model files, RPC fields): size- and depth-limited, so
// hostile input is an error, never a stack overflow or a huge allocation;
// and short excerpts of input for error messages, so an error never echoes
// megabytes back.
#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dsegym {

inline constexpr int kMaxJsonDepth = 64;                          // nesting of arrays and objects
inline constexpr std::size_t kMaxJsonTextBytes = 16u << 20;       // an argument or an RPC field
inline constexpr std::size_t kMaxJsonFileBytes = 512u << 20;      // a file (proxy models hold their training data)
inline constexpr std::size_t kMaxExcerpt = 200;                   // characters of input quoted in a message

// Parses `text`; InvalidArgument naming `where` when it is not JSON, nests
// deeper than kMaxJsonDepth or is longer than max_bytes.
nlohmann::json parse_json(std::string_view text, const std::string& where, std::size_t max_bytes = kMaxJsonTextBytes);

// Reads and parses a JSON file (InvalidArgument naming the file when it is
// missing, unreadable, too large or not JSON).
nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& what = "");

// At most `max` characters of `text`; a longer text is cut and says how long it was.
std::string excerpt(std::string_view text, std::size_t max = kMaxExcerpt);
inline std::string excerpt(const std::string& text, std::size_t max = kMaxExcerpt) { return excerpt(std::string_view(text), max); }
inline std::string excerpt(const char* text, std::size_t max = kMaxExcerpt) { return excerpt(std::string_view(text), max); }
std::string excerpt(const nlohmann::json& j, std::size_t max = kMaxExcerpt);

// Throws InvalidArgument unless j is an object whose keys are all in `keys`:
// "<where>: unknown key 'k'; valid keys: a, b".
void check_keys(const nlohmann::json& j, std::initializer_list<const char*> keys, const std::string& where);

}  // namespace dsegym
