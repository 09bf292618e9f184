import Postgres

/// Which page of a list to read: the page number from 1 and its size, bounded so the SQL offset
/// cannot overflow. Every list the API and the pages show is cut in SQL (`LIMIT`/`OFFSET`), never in memory.
public struct Paging: Sendable, Equatable {
    /// The largest page number accepted.
    public static let maxPage = 1_000_000
    /// The largest page the JSON API and the pages serve.
    public static let maxPerPage = 500
    /// The largest page a CSV or JSON download serves (a whole filtered list for most organisations).
    public static let maxDownload = 10_000
    /// The page, from 1.
    public let page: Int
    /// Items per page.
    public let perPage: Int

    /// A page; a number out of bounds is refused with the field it concerns.
    public init(page: Int = 1, perPage: Int = 50, largest: Int = Paging.maxPerPage) throws {
        guard (1...Self.maxPage).contains(page) else {
            throw AccordError(.invalid, "page must be 1 to \(Self.maxPage)", field: "page")
        }
        guard (1...largest).contains(perPage) else {
            throw AccordError(.invalid, "per_page must be 1 to \(largest)", field: "per_page")
        }
        self.page = page
        self.perPage = perPage
    }

    /// The SQL `LIMIT`.
    public var limit: Int64 { Int64(perPage) }
    /// The SQL `OFFSET`; page and size are bounded, so it cannot overflow.
    public var offset: Int64 { Int64(page - 1) * Int64(perPage) }
}

/// One page of a list and the size of the whole filtered list.
public struct Paged<Item: Sendable>: Sendable {
    /// The items of this page, in the list's order.
    public var items: [Item]
    /// The page, from 1.
    public var page: Int
    /// Items per page asked for.
    public var perPage: Int
    /// How many items the whole filtered list holds.
    public var total: Int

    /// A page of a list.
    public init(items: [Item], page: Int, perPage: Int, total: Int) {
        self.items = items
        self.page = page
        self.perPage = perPage
        self.total = total
    }

    /// The same page with its items transformed.
    public func map<Other>(_ transform: (Item) throws -> Other) rethrows -> Paged<Other> {
        Paged<Other>(items: try items.map(transform), page: page, perPage: perPage, total: total)
    }

    /// Whether a later page has items.
    public var hasNext: Bool { page * perPage < total }
    /// The number of the last page (1 for an empty list).
    public var lastPage: Int { max(1, (total + perPage - 1) / perPage) }
}

/// A row of a paged query: the item, and the size of the whole filtered list (`count(*) OVER ()` as `total`).
struct Counted<Item: Sendable>: Sendable {
    var item: Item
    var total: Int

    /// A row decoded by `decode`, with its `total` column.
    init(row: PostgresRow, _ decode: (PostgresRow) throws -> Item) throws {
        item = try decode(row)
        total = try row.decode(Int.self, "total")
    }
}

extension Store {
    /// Runs a paged query: its rows carry the total; a page past the end asks page 1 for the total alone.
    static func paged<Item: Sendable>(
        _ paging: Paging,
        _ read: (_ limit: Int64, _ offset: Int64) async throws -> [Counted<Item>]
    ) async throws -> Paged<Item> {
        var rows = try await read(paging.limit, paging.offset)
        var total = rows.first?.total ?? 0
        if rows.isEmpty && paging.offset > 0 {
            rows = []
            total = try await read(1, 0).first?.total ?? 0
        }
        return Paged(items: rows.map(\.item), page: paging.page, perPage: paging.perPage, total: total)
    }
}
