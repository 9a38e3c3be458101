#include "supervisor_protocol.hpp"

#include <cstring>

namespace qtopology::worker::supervision {

void Writer::i32(std::int32_t value) {
  payload_.append(reinterpret_cast<const char*>(&value), sizeof value);
}
void Writer::i64(std::int64_t value) {
  payload_.append(reinterpret_cast<const char*>(&value), sizeof value);
}
void Writer::u8(std::uint8_t value) { payload_.push_back(static_cast<char>(value)); }
void Writer::str(const std::string& value) {
  i32(static_cast<std::int32_t>(value.size()));
  payload_ += value;
}

std::string Writer::message(Type type) const {
  std::string out(1, static_cast<char>(type));
  const auto size = static_cast<std::uint32_t>(payload_.size());
  out.append(reinterpret_cast<const char*>(&size), sizeof size);
  return out + payload_;
}

void Reader::take(void* out, std::size_t size) {
  if (payload_.size() - at_ < size) throw ProtocolError("message shorter than its fields");
  std::memcpy(out, payload_.data() + at_, size);
  at_ += size;
}
std::int32_t Reader::i32() {
  std::int32_t value;
  take(&value, sizeof value);
  return value;
}
std::int64_t Reader::i64() {
  std::int64_t value;
  take(&value, sizeof value);
  return value;
}
std::uint8_t Reader::u8() {
  std::uint8_t value;
  take(&value, sizeof value);
  return value;
}
std::string Reader::str() {
  const auto size = i32();
  if (size < 0 || payload_.size() - at_ < static_cast<std::size_t>(size)) {
    throw ProtocolError("string longer than its message");
  }
  std::string out = payload_.substr(at_, static_cast<std::size_t>(size));
  at_ += static_cast<std::size_t>(size);
  return out;
}

std::string encodeSpec(const Spec& spec) {
  Writer w;
  w.str(spec.program);
  w.i32(static_cast<std::int32_t>(spec.argv.size()));
  for (const auto& arg : spec.argv) w.str(arg);
  w.i32(static_cast<std::int32_t>(spec.envp.size()));
  for (const auto& entry : spec.envp) w.str(entry);
  w.str(spec.config_file);
  w.i64(spec.grace_ms);
  w.i64(spec.lease_deadline_ns);
  w.u8(spec.node_channel ? 1 : 0);
  return w.message(Type::Spec);
}

Spec decodeSpec(const std::string& payload) {
  Reader r(payload);
  Spec spec;
  spec.program = r.str();
  const auto list = [&](std::vector<std::string>& out) {
    const auto count = r.i32();
    if (count < 0 || static_cast<std::size_t>(count) > payload.size()) {
      throw ProtocolError("bad count");
    }
    for (std::int32_t i = 0; i < count; ++i) out.push_back(r.str());
  };
  list(spec.argv);
  list(spec.envp);
  spec.config_file = r.str();
  spec.grace_ms = r.i64();
  spec.lease_deadline_ns = r.i64();
  spec.node_channel = r.u8() != 0;
  if (spec.program.empty() || spec.argv.empty()) throw ProtocolError("nothing to run");
  return spec;
}

std::optional<std::pair<Type, std::string>> Inbox::next() {
  if (buffer_.size() < kHeaderSize) return std::nullopt;
  std::uint32_t size;
  std::memcpy(&size, buffer_.data() + 1, sizeof size);
  if (size > kMaxPayload) throw ProtocolError("message of " + std::to_string(size) + " bytes");
  if (buffer_.size() < kHeaderSize + size) return std::nullopt;
  auto out = std::make_pair(static_cast<Type>(buffer_[0]), buffer_.substr(kHeaderSize, size));
  buffer_.erase(0, kHeaderSize + size);
  return out;
}

}  // namespace qtopology::worker::supervision
