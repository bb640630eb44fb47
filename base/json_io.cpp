#include "base/json_io.hpp"

#include <fstream>

#include "base/error.hpp"

namespace dsegym {

namespace {

struct TooDeep {};

}  // namespace

nlohmann::json parse_json(std::string_view text, const std::string& where, std::size_t max_bytes) {
  if (text.size() > max_bytes)
    throw InvalidArgument(where + ": " + std::to_string(text.size()) + " bytes of JSON, more than the " + std::to_string(max_bytes) + " allowed");
  const nlohmann::json::parser_callback_t depth_check = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    if ((event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start) && depth >= kMaxJsonDepth)
      throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), depth_check);
  } catch (const TooDeep&) {
    throw InvalidArgument(where + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  } catch (const nlohmann::json::parse_error& e) {
    // The parser's message quotes the input it read last: drop that (a file
    // may not be the caller's to read), keep the position and the reason.
    std::string why = e.what();
    if (const auto at = why.find("; last read"); at != std::string::npos) why.resize(at);
    if (const auto at = why.find("] "); at != std::string::npos) why = why.substr(at + 2);
    throw InvalidArgument(where + ": not valid JSON (" + excerpt(why, 200) + ")");
  }
}

nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& what) {
  const std::string name = (what.empty() ? "" : what + " ") + path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw InvalidArgument(name + ": no such file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw InvalidArgument(name + ": cannot read it: " + ec.message());
  if (size > kMaxJsonFileBytes)
    throw InvalidArgument(name + ": " + std::to_string(size) + " bytes, more than the " + std::to_string(kMaxJsonFileBytes) + " a JSON file may have");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InvalidArgument(name + ": cannot open it");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse_json(text, name, kMaxJsonFileBytes);
}

std::string excerpt(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "... (" + std::to_string(text.size()) + " bytes)";
}

std::string excerpt(const nlohmann::json& j, std::size_t max) {
  // Dump no more than needed: a huge value is summarised by its size class.
  return excerpt(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), max);
}

void check_keys(const nlohmann::json& j, std::initializer_list<const char*> keys, const std::string& where) {
  if (!j.is_object()) throw InvalidArgument(where + ": expected a JSON object, got " + excerpt(j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const char* k : keys) ok = ok || it.key() == k;
    if (!ok) {
      std::string list;
      for (const char* k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
      throw InvalidArgument(where + ": unknown key '" + excerpt(it.key(), 100) + "'; valid keys: " + list);
    }
  }
}

}  // namespace dsegym
