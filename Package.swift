// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // Every file says which modules it uses, and a module re-exports none by accident (as Hummingbird does).
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "accord",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "accord", targets: ["accord"]),
        .executable(name: "accord-verify-pack", targets: ["accord-verify-pack"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "PostgresCluster", targets: ["PostgresCluster"]),
        .library(name: "AccordCore", targets: ["AccordCore"]),
        .library(name: "AccordPack", targets: ["AccordPack"]),
        .library(name: "AccordStore", targets: ["AccordStore"]),
        .library(name: "AccordReports", targets: ["AccordReports"]),
        .library(name: "AccordScheduler", targets: ["AccordScheduler"]),
        .library(name: "AccordServer", targets: ["AccordServer"]),
    ],
    dependencies: [
        // ConfigurationSupport is left out: Accord reads its own settings, and the trait costs build time.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // Yams keeps each YAML node's line and column, which the workflow validator reports.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // Counters and histograms through the ecosystem's API, exposed in Prometheus' text format.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // multipart/form-data (RFC 7578) for evidence uploads.
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        // Outgoing HTTP for webhooks: connection pooling, timeouts, TLS, and no redirect following.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // JOSE for OpenID Connect: JWKS, the ID token's signature and its registered claims.
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        // The Model Context Protocol, for AI assistants: the official Swift SDK.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
    ],
    targets: [
        // libpq, found through pkg-config; Debian and Ubuntu ship it as libpq-dev.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // zlib, for the CRC-32 of ZIP entries (evidence packs); Debian ships it as zlib1g-dev.
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        // libcurl, whose SMTP client sends Accord's mail (implicit TLS, STARTTLS, AUTH, connection reuse,
        // MIME): a maintained protocol implementation rather than one of ours. Debian: libcurl4-openssl-dev.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        // Our Swift layer over libpq: connections, pool, typed queries and rows, errors, migrations.
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The embedded PostgreSQL: initdb, pg_ctl, a private cluster reachable by a Unix socket only. Apart
        // from the driver, which it only uses to reach the new server once.
        .target(
            name: "PostgresCluster",
            dependencies: ["CLibPQ", "Postgres"],
            swiftSettings: swiftSettings
        ),
        // The files under sql/, workflows/, reference/ and Sources/AccordServer/Templates, compiled into the binary
        // by the EmbedResources plugin.
        .target(
            name: "AccordResources",
            swiftSettings: swiftSettings,
            plugins: ["EmbedResources"]
        ),
        // Pure domain logic: no I/O.
        .target(
            name: "AccordCore",
            dependencies: [
                "AccordResources",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The engine: every command is one transaction that changes state and appends its audit entry.
        // Evidence packs: their format, the strict ZIP reader and writer, and the offline verifier, without
        // libpq, so an auditor's verifier (accord-verify-pack) ships alone.
        .target(
            name: "AccordPack",
            dependencies: [
                "AccordCore",
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AccordStore",
            dependencies: [
                "AccordPack",
                "AccordCore",
                "AccordResources",
                "Postgres",
                "PostgresCluster",
                .product(name: "Logging", package: "swift-log"),
                // bcrypt only (CBcrypt underneath); no HTTP code comes with it.
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The reports and the pack's index as people read them: titles, tables, number formats, prose.
        // The engine gathers the figures; every front words them through this.
        .target(
            name: "AccordReports",
            dependencies: ["AccordStore", "AccordPack", "AccordCore"],
            swiftSettings: swiftSettings
        ),
        // E-mail: the outbox's messages worded with the mail templates and sent over SMTP by libcurl.
        .target(
            name: "AccordMail",
            dependencies: [
                "AccordStore",
                "AccordResources",
                "CCurl",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Single sign-on: OpenID Connect's code flow with PKCE and the ID token's checks (jwt-kit), the
        // provider reached with AsyncHTTPClient.
        .target(
            name: "AccordSSO",
            dependencies: [
                "AccordStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Accord as an MCP server: the tools an assistant may call, as the person whose token it holds.
        .target(
            name: "AccordMCP",
            dependencies: [
                "AccordStore", "AccordReports", "AccordCore", "AccordResources", "Postgres", .product(name: "MCP", package: "swift-sdk"),
            ],
            swiftSettings: swiftSettings
        ),
        // Background work: deadlines, escalations, cycle openings, webhook and mail delivery, digests.
        .target(
            name: "AccordScheduler",
            dependencies: [
                "AccordMail",
                "AccordStore",
                "AccordCore",
                "Postgres",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP: JSON API, pages, health.
        .target(
            name: "AccordServer",
            dependencies: [
                "AccordMCP",
                "AccordReports",
                "AccordSSO",
                "AccordScheduler",
                "AccordStore",
                "AccordCore",
                "Postgres",
                "AccordResources",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MCP", package: "swift-sdk"),
            ],
            // The templates are compiled into the binary by the EmbedResources plugin, not copied as a bundle.
            exclude: ["Templates"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "accord",
            dependencies: [
                "AccordMCP",
                "AccordMail",
                "AccordSSO",
                "AccordPack",
                "AccordReports",
                "AccordServer",
                "AccordScheduler",
                "AccordStore",
                "AccordCore",
                "Postgres",
                "PostgresCluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The evidence-pack verifier on its own, for auditors: no libpq, no server.
        .executableTarget(
            name: "accord-verify-pack",
            dependencies: ["AccordPack", "AccordCore"],
            swiftSettings: swiftSettings
        ),
        // The benchmark (make bench): engine figures against raw baselines measured in the same run.
        .executableTarget(
            name: "accord-bench",
            dependencies: [
                "AccordCore",
                "AccordReports",
                "AccordStore",
                "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Build-time tool: turns sql/ and workflows/ into Swift sources.
        .executableTarget(
            name: "accord-embed",
            swiftSettings: swiftSettings
        ),
        .plugin(
            name: "EmbedResources",
            capability: .buildTool(),
            dependencies: ["accord-embed"]
        ),
        // Real-PostgreSQL fixtures shared by the test targets: per-test databases, private clusters.
        .target(
            name: "AccordTestSupport",
            dependencies: [
                "AccordStore",
                "AccordCore",
                "AccordResources",
                "Postgres",
                "PostgresCluster",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "PostgresCluster", "AccordTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AccordCoreTests",
            dependencies: ["AccordCore", "AccordResources"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AccordStoreTests",
            dependencies: [
                "AccordPack", "AccordReports", "AccordStore", "AccordCore", "Postgres", "AccordTestSupport",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AccordServerTests",
            dependencies: [
                "AccordMail",
                "AccordPack",
                "AccordReports",
                "AccordServer",
                "AccordScheduler",
                "AccordStore",
                "Postgres",
                "AccordCore",
                "AccordTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // Runs the built `accord` binary as a user would.
        .testTarget(
            name: "AccordCLITests",
            dependencies: ["accord", "AccordTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
