#include "node_channel.hpp"

#include <qtopology/bounded_json.hpp>

#include "json_type.hpp"

namespace qtopology::worker::node_ipc {
namespace {

// {cmd, data: {err: {name, message, stack, ...}}} and a little room: an
// error's own fields (a cause, details) may nest a few levels more.
constexpr JsonLimits kChildMessageLimits{16, 10000};

// Cut to `limit` bytes, never inside a UTF-8 character.
std::string cut(std::string text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

std::optional<std::string> errorOf(const Json& data) {
  if (!data.is_object()) return std::nullopt;
  const auto err = data.find("err");
  if (err == data.end() || err->is_null()) return std::nullopt;
  if (err->is_string()) return cut(err->get<std::string>(), kMaxErrorBytes);
  if (err->is_object()) {
    const auto message = err->find("message");
    if (message != err->end() && message->is_string() &&
        !message->get_ref<const std::string&>().empty()) {
      return cut(message->get<std::string>(), kMaxErrorBytes);
    }
    const auto name = err->find("name");
    if (name != err->end() && name->is_string()) {
      return cut(name->get<std::string>() + " (without a message)", kMaxErrorBytes);
    }
  }
  return std::string("an error without a message");
}

}  // namespace

std::string encode(ParentCode code, const Json& data) {
  Json message = {{"cmd", static_cast<int>(code)}, {"data", data}};
  // Invalid UTF-8 in a config (it came from the storage) must not throw
  // here: replaced, as JSON.parse would see it anyway.
  return message.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

void ChildMessageReader::append(const char* data, std::size_t size) { buffer_.append(data, size); }

std::optional<ChildMessage> ChildMessageReader::next() {
  const auto newline = buffer_.find('\n', scanned_);
  if (newline == std::string::npos) {
    scanned_ = buffer_.size();
    if (buffer_.size() > kMaxMessageBytes) {
      throw ChannelError("a message over " + std::to_string(kMaxMessageBytes) + " bytes");
    }
    return std::nullopt;
  }
  if (newline > kMaxMessageBytes) {
    throw ChannelError("a message over " + std::to_string(kMaxMessageBytes) + " bytes");
  }
  const std::string line = buffer_.substr(0, newline);
  buffer_.erase(0, newline + 1);
  scanned_ = 0;
  Json parsed;
  try {
    parsed = parseBoundedJson(line, kChildMessageLimits);
  } catch (const JsonInputError& e) {
    throw ChannelError(std::string("a message that is not valid JSON (") + e.what() + ")");
  }
  if (!parsed.is_object()) {
    throw ChannelError("a message that is " + apps::typeWithArticle(parsed) + ", not an object");
  }
  ChildMessage message;
  const auto cmd = parsed.find("cmd");
  if (cmd != parsed.end() && cmd->is_number_integer()) {
    const auto value = cmd->get<long long>();
    message.code = value >= 0 && value <= 1000 ? static_cast<int>(value) : -1;
  }
  if (const auto data = parsed.find("data"); data != parsed.end()) message.error = errorOf(*data);
  return message;
}

}  // namespace qtopology::worker::node_ipc
