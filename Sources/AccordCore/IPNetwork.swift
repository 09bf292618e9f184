import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address as its bytes (4 or 16), parsed and printed by the C library (`inet_pton`,
/// `inet_ntop`) rather than by hand.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// Parses a textual address (`203.0.113.7`, `2001:db8::1`); `nil` when it is not one.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// The address in its usual text form (`203.0.113.7`, `2001:db8::1`), or `?` if the C library cannot print it.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        return bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil ? cText(buffer) : "?"
        }
    }

    /// The IPv4 address an IPv6 address carries (`::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`), if any.
    var embeddedIPv4: IPAddress? {
        guard bytes.count == 16 else { return nil }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff { return IPAddress(bytes: Array(bytes[12...])) }
        if bytes[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0][...] { return IPAddress(bytes: Array(bytes[12...])) }
        return nil
    }

    /// Whether the address is not on the public internet: loopback, private (RFC 1918, unique local),
    /// link-local (cloud metadata services live there), shared (CGNAT), unspecified, multicast,
    /// broadcast, documentation or benchmarking ranges.
    public var isInternal: Bool {
        if let v4 = embeddedIPv4 { return v4.isInternal }
        return Self.internalNetworks.contains { $0.contains(self) }
    }

    static let internalNetworks: [IPNetwork] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
        "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32", "100::/64",
    ].map { IPNetwork($0)! }
}

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or one address.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The address as written (host bits are not cleared; `contains` masks them).
    public let address: IPAddress
    /// How many leading bits are the network: 0 to 32 for IPv4, 0 to 128 for IPv6; all of them for one address.
    public let prefixLength: Int

    /// Parses `ADDRESS/PREFIX` or a single address; `nil` when malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let address = IPAddress(first) else { return nil }
        let bits = address.bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.address = address
    }

    /// The network as `ADDRESS/PREFIX`, e.g. `10.0.0.0/8` (a single address gets `/32` or `/128`).
    public var description: String { "\(address)/\(prefixLength)" }

    /// Whether an address lies in the network (an IPv4-mapped IPv6 address counts as its IPv4 address).
    public func contains(_ other: IPAddress) -> Bool {
        let candidate = other.bytes.count == address.bytes.count ? other : (other.embeddedIPv4 ?? other)
        guard candidate.bytes.count == address.bytes.count else { return false }
        var remaining = prefixLength
        for (a, b) in zip(address.bytes, candidate.bytes) {
            guard remaining > 0 else { return true }
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            if a & mask != b & mask { return false }
            remaining -= 8
        }
        return true
    }
}

/// Every address a host name resolves to (`getaddrinfo`, blocking: call it off the cooperative pool), or the address itself for a literal.
public func resolveAddresses(of host: String) -> [IPAddress] {
    let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    if let literal = IPAddress(bare) { return [literal] }
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(bare, nil, &hints, &list) == 0, let first = list else { return [] }
    defer { freeaddrinfo(first) }
    var addresses: [IPAddress] = []
    var cursor: UnsafeMutablePointer<addrinfo>? = first
    while let entry = cursor {
        if let sockaddr = entry.pointee.ai_addr {
            switch Int32(entry.pointee.ai_family) {
            case AF_INET:
                var value = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                addresses.append(IPAddress(bytes: withUnsafeBytes(of: &value) { Array($0) }))
            case AF_INET6:
                var value = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                addresses.append(IPAddress(bytes: withUnsafeBytes(of: &value) { Array($0) }))
            default:
                break
            }
        }
        cursor = entry.pointee.ai_next
    }
    return Array(Set(addresses)).sorted { $0.description < $1.description }
}

/// The text of a NUL-terminated C buffer (the bytes before its first NUL), decoded as UTF-8.
public func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
