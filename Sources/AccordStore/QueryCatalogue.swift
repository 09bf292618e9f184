public import Postgres

/// Every typed query of the engine, for the catalogue test (`StoreQueryCatalogueTests`), which prepares
/// each against the migrated schema and runs its row decoder on the described columns. A query left out
/// of this list is caught by the same test, which counts the declarations in the sources.
public enum StoreQueries {
    /// All of them, domain by domain.
    public static var all: [any PostgresCheckable] {
        PeopleSQL.catalogue + AuditSQL.catalogue + VerifySQL.catalogue + AuditPageSQL.catalogue + SessionSQL.catalogue
            + DeadlineSQL.catalogue + ThrottleSQL.catalogue + ReportSQL.catalogue + WebhookSQL.catalogue + PackSQL.catalogue
            + StoreSQL.catalogue + IdempotencySQL.catalogue + PeopleAdminSQL.catalogue + AccountSQL.catalogue
            + ProgramSQL.catalogue + CycleSQL.catalogue + ImprovementSQL.catalogue + WorkflowSQL.catalogue + UpgradeSQL.catalogue
            + TaskSQL.catalogue + InboxSQL.catalogue + SignatureSQL.catalogue + EvidenceSQL.catalogue + DelegationSQL.catalogue
            + LeadershipSQL.catalogue + CalendarSQL.catalogue + SystemSQL.catalogue + GaugeSQL.catalogue
            + SetupSQL.catalogue
            + CommentSQL.catalogue + AssignmentSQL.catalogue
            + SignOffSQL.catalogue + AwaySQL.catalogue + ImprovementListSQL.catalogue + ClassificationSQL.catalogue
            + MailSQL.catalogue + SSOSQL.catalogue + LeaverSQL.catalogue + SCIMSQL.catalogue + CatalogueSQL.catalogue
    }
}
