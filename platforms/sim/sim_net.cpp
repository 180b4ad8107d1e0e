#include "platforms/sim/sim_net.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/base/text.h"

namespace tinyimapd::sim {

namespace {

// Splits "host:port", "[v6]:port" or "*:port". False on any syntax error.
bool parse_address(std::string_view address, std::string* host, std::uint16_t* port) {
    std::string_view h;
    std::string_view p;
    if (!address.empty() && address.front() == '[') {
        const std::size_t close = address.find("]:");
        if (close == std::string_view::npos) return false;
        h = address.substr(1, close - 1);
        p = address.substr(close + 2);
    } else {
        const std::size_t colon = address.rfind(':');
        if (colon == std::string_view::npos) return false;
        h = address.substr(0, colon);
        p = address.substr(colon + 1);
        if (h.find(':') != std::string_view::npos) return false;  // v6 needs brackets
    }
    std::uint64_t value = 0;
    if (h.empty() || p.size() > 5 || !ascii::parse_uint(p, &value) || value > 65535) return false;
    *host = std::string(h);
    *port = static_cast<std::uint16_t>(value);
    return true;
}

}  // namespace

Result<port::Handle> SimNet::listen(std::string_view address_port) {
    Listener l;
    if (!parse_address(address_port, &l.host, &l.port)) {
        return Result<port::Handle>::failure(Status::Invalid);
    }
    if (l.port == 0) l.port = next_ephemeral_port_++;
    for (const auto& [handle, other] : listeners_) {
        if (other.port == l.port && (other.host == l.host || other.host == "*" || l.host == "*")) {
            return Result<port::Handle>::failure(Status::AddrInUse);
        }
    }
    const port::Handle h = next_handle_++;
    listeners_.emplace(h, std::move(l));
    return Result<port::Handle>::success(h);
}

Result<port::Handle> SimNet::accept(port::Handle listener, port::PeerAddress* peer) {
    auto it = listeners_.find(listener);
    if (it == listeners_.end()) return Result<port::Handle>::failure(Status::Closed);
    if (fail_next_accept_ != Status::Ok) {
        const Status s = fail_next_accept_;
        fail_next_accept_ = Status::Ok;
        return Result<port::Handle>::failure(s);
    }
    if (it->second.pending.empty()) return Result<port::Handle>::failure(Status::WouldBlock);
    const std::size_t index = it->second.pending.front();
    it->second.pending.erase(it->second.pending.begin());
    Conn& c = conns_[index];
    c.server = next_handle_++;
    server_ends_.emplace(c.server, index);
    if (peer != nullptr) {
        peer->length = std::min(c.peer.size(), port::PeerAddress::kCapacity);
        std::memcpy(peer->text, c.peer.data(), peer->length);
    }
    return Result<port::Handle>::success(c.server);
}

port::IoResult SimNet::read(port::Handle h, std::uint8_t* out, std::size_t capacity) {
    Conn* c = server_conn(h);
    if (c == nullptr || c->reset) return {Status::Closed, 0};
    if (c->faults.would_block_reads > 0) {
        --c->faults.would_block_reads;
        return {Status::WouldBlock, 0};
    }
    if (c->to_server.empty()) {
        return {c->client_closed ? Status::Eof : Status::WouldBlock, 0};
    }
    std::size_t n = std::min(capacity, c->to_server.size());
    if (c->faults.max_read != 0) n = std::min(n, c->faults.max_read);
    std::memcpy(out, c->to_server.data(), n);
    c->to_server.erase(0, n);
    return {Status::Ok, n};
}

port::IoResult SimNet::write(port::Handle h, const std::uint8_t* data, std::size_t length) {
    Conn* c = server_conn(h);
    if (c == nullptr || c->reset || c->client_closed || c->write_shut) return {Status::Closed, 0};
    if (c->faults.would_block_writes > 0) {
        --c->faults.would_block_writes;
        return {Status::WouldBlock, 0};
    }
    if (length == 0) return {Status::Ok, 0};
    std::size_t n = length;
    if (c->faults.send_buffer != 0) {
        if (c->to_client.size() >= c->faults.send_buffer) return {Status::WouldBlock, 0};
        n = std::min(n, c->faults.send_buffer - c->to_client.size());
    }
    if (c->faults.max_write != 0) n = std::min(n, c->faults.max_write);
    c->to_client.append(reinterpret_cast<const char*>(data), n);
    if (on_write) on_write(c->client, {reinterpret_cast<const char*>(data), n});
    return {Status::Ok, n};
}

void SimNet::close(port::Handle h) {
    if (auto it = server_ends_.find(h); it != server_ends_.end()) {
        Conn& c = conns_[it->second];
        c.server_closed = true;
        // Closing with unread input resets the connection (Linux; RFC 2525
        // §2.17): what the client had not received yet is lost.
        if (!c.to_server.empty()) lose_to_reset(c);
        server_ends_.erase(it);
        return;
    }
    if (auto it = listeners_.find(h); it != listeners_.end()) {
        // Connections nobody accepted are refused, as the kernel would.
        for (std::size_t index : it->second.pending) conns_[index].server_closed = true;
        listeners_.erase(it);
    }
}

void SimNet::shutdown_write(port::Handle h) {
    if (Conn* c = server_conn(h)) c->write_shut = true;
}

void SimNet::acknowledge(port::Handle h) {
    if (Conn* c = server_conn(h)) ++c->acks;
}

void SimNet::lose_to_reset(Conn& c) {
    c.reset = true;
    c.to_server.clear();
    c.to_client.clear();
}

Result<std::uint16_t> SimNet::local_port(port::Handle listener) {
    auto it = listeners_.find(listener);
    if (it == listeners_.end()) return Result<std::uint16_t>::failure(Status::Invalid);
    return Result<std::uint16_t>::success(it->second.port);
}

std::uint8_t SimNet::readiness(const port::WaitItem& item) {
    const std::uint8_t rw = item.want & (port::kWaitRead | port::kWaitWrite);
    if (item.handle == port::kNoHandle) return 0;
    if (auto it = listeners_.find(item.handle); it != listeners_.end()) {
        return it->second.pending.empty() ? 0 : (item.want & port::kWaitRead);
    }
    Conn* c = server_conn(item.handle);
    if (c == nullptr || c->reset) return static_cast<std::uint8_t>(rw | port::kWaitHangup);
    std::uint8_t got = 0;
    if ((item.want & port::kWaitRead) && (!c->to_server.empty() || c->client_closed)) {
        got |= port::kWaitRead;
    }
    const bool room = c->faults.send_buffer == 0 || c->to_client.size() < c->faults.send_buffer;
    if ((item.want & port::kWaitWrite) && (room || c->client_closed)) got |= port::kWaitWrite;
    return got;
}

Status SimNet::wait(port::WaitItem* items, std::size_t count, std::int32_t timeout_ms) {
    ++wait_calls_;
    for (std::size_t i = 0; i < count; ++i) items[i].got = 0;
    if (interrupt_next_wait_) {
        interrupt_next_wait_ = false;
        return Status::Interrupted;
    }
    bool any = false;
    for (std::size_t i = 0; i < count; ++i) {
        items[i].got = readiness(items[i]);
        any = any || items[i].got != 0;
    }
    // Nothing ready: time passes for a bounded wait; an unbounded one returns
    // at once (see the header) instead of hanging the test.
    if (!any && timeout_ms > 0) clock_.advance(static_cast<std::uint64_t>(timeout_ms));
    return Status::Ok;
}

port::Handle SimNet::connect(std::string_view address, std::string_view peer) {
    std::string host;
    std::uint16_t port = 0;
    if (!parse_address(address, &host, &port)) return port::kNoHandle;
    Listener* target = nullptr;
    for (auto& [handle, l] : listeners_) {
        if (l.port == port && l.host == host) target = &l;
    }
    if (target == nullptr) {
        for (auto& [handle, l] : listeners_) {
            if (l.port == port && l.host == "*") target = &l;
        }
    }
    if (target == nullptr) return port::kNoHandle;
    Conn c;
    c.client = next_handle_++;
    c.peer = std::string(peer);
    conns_.push_back(std::move(c));
    const std::size_t index = conns_.size() - 1;
    client_ends_.emplace(conns_[index].client, index);
    target->pending.push_back(index);
    return conns_[index].client;
}

void SimNet::client_send(port::Handle client, std::string_view bytes) {
    Conn& c = client_conn(client);
    if (c.client_closed) throw std::logic_error("SimNet::client_send after client_close");
    if (c.server_closed || c.reset) return;
    c.to_server.append(bytes);
}

std::string SimNet::client_receive(port::Handle client) {
    Conn& c = client_conn(client);
    std::string out;
    out.swap(c.to_client);
    return out;
}

bool SimNet::client_closed_by_server(port::Handle client) const {
    const Conn& c = client_conn(client);
    return c.server_closed || c.write_shut;
}

void SimNet::client_close(port::Handle client) {
    client_conn(client).client_closed = true;
}

ConnFaults& SimNet::faults(port::Handle client) {
    return client_conn(client).faults;
}

void SimNet::reset(port::Handle client) {
    lose_to_reset(client_conn(client));
}

bool SimNet::client_was_reset(port::Handle client) const {
    return client_conn(client).reset;
}

port::Handle SimNet::server_handle(port::Handle client) const {
    const Conn& c = client_conn(client);
    return c.server_closed ? port::kNoHandle : c.server;
}

std::size_t SimNet::unread_by_server(port::Handle client) const {
    return client_conn(client).to_server.size();
}

std::size_t SimNet::unread_by_client(port::Handle client) const {
    return client_conn(client).to_client.size();
}

SimNet::Conn& SimNet::client_conn(port::Handle client) {
    auto it = client_ends_.find(client);
    if (it == client_ends_.end()) throw std::invalid_argument("SimNet: unknown client handle");
    return conns_[it->second];
}

const SimNet::Conn& SimNet::client_conn(port::Handle client) const {
    auto it = client_ends_.find(client);
    if (it == client_ends_.end()) throw std::invalid_argument("SimNet: unknown client handle");
    return conns_[it->second];
}

SimNet::Conn* SimNet::server_conn(port::Handle h) {
    auto it = server_ends_.find(h);
    return it == server_ends_.end() ? nullptr : &conns_[it->second];
}

}  // namespace tinyimapd::sim
