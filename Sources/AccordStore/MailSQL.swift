import Foundation
public import Postgres

enum MailSQL {
    /// One message for one person ($1), unless they have no address, are disabled, or switched the kind
    /// ($2) off; $7: an account link, always at once and to a person not yet able to log in.
    static let queue = PostgresCommand<Int64, String, String?, String, PostgresJSON, String?, Bool>(
        "mail_queue",
        """
        INSERT INTO accord.mail (person_id, address, kind, mode, thread, subject, body, secret)
        SELECT p.id, p.email, $2, CASE WHEN $7 THEN 'now' ELSE coalesce(m.mode, 'now') END, $3, $4, $5::jsonb, $6
        FROM accord.person p LEFT JOIN accord.mail_preference m ON m.person_id = p.id AND m.kind = $2
        WHERE p.id = $1 AND p.email IS NOT NULL AND p.disabled_at IS NULL AND ($7 OR coalesce(m.mode, 'now') <> 'off')
        """
    )
    /// The enabled holders of any of the roles ($2) in a program ($1), with the role each holds.
    static let holders = PostgresQuery<Int64, PostgresArray<String>, (personID: Int64, role: String)>(
        "mail_role_holders",
        """
        SELECT p.id, b.role FROM accord.role_binding b JOIN accord.person p ON p.id = b.person_id
        WHERE b.program_id = $1 AND b.role = ANY($2::text[]) AND p.disabled_at IS NULL
        ORDER BY p.handle, b.role
        """
    ) { (try $0.decode(Int64.self, "id"), try $0.decode(String.self, "role")) }
    /// Who may sign for the roles ($2) of a program ($1), but for the people excluded ($3): the roles'
    /// holders, and the deputies of delegations in force today, with the holder they sign for.
    static let signers = PostgresQuery<Int64, PostgresArray<String>, PostgresArray<Int64>, (personID: Int64, role: String, forHandle: String?)>(
        "mail_signers",
        """
        SELECT p.id, b.role, NULL::text AS for_handle FROM accord.role_binding b JOIN accord.person p ON p.id = b.person_id
        WHERE b.program_id = $1 AND b.role = ANY($2::text[]) AND p.disabled_at IS NULL AND p.id <> ALL($3::bigint[])
        UNION ALL
        SELECT p.id, d.role, f.handle FROM accord.delegation d JOIN accord.person p ON p.id = d.to_id JOIN accord.person f ON f.id = d.from_id
        WHERE d.program_id = $1 AND d.role = ANY($2::text[]) AND d.revoked_at IS NULL AND current_date BETWEEN d.valid_from AND d.valid_until
          AND p.disabled_at IS NULL AND p.id <> ALL($3::bigint[])
        ORDER BY 1, 3 NULLS FIRST
        """
    ) { (try $0.decode(Int64.self, "id"), try $0.decode(String.self, "role"), try $0.decode(String?.self, "for_handle")) }
    /// Delegations whose last day is $1 and whose deputy was not told yet: marked told, once.
    static let delegationsEnding = PostgresQuery<String, (programID: Int64, role: String, deputyID: Int64, holder: String)>(
        "mail_delegations_ending",
        """
        UPDATE accord.delegation d SET end_notice_at = now() FROM accord.person f
        WHERE f.id = d.from_id AND d.valid_until = $1::date AND d.revoked_at IS NULL AND d.end_notice_at IS NULL
        RETURNING d.program_id, d.role, d.to_id, f.name AS holder
        """
    ) {
        (
            try $0.decode(Int64.self, "program_id"), try $0.decode(String.self, "role"), try $0.decode(Int64.self, "to_id"),
            try $0.decode(String.self, "holder")
        )
    }
    /// What a task's messages say of it: its title, due date and who submitted it.
    static let taskFacts = PostgresQuery<Int64, (title: String, dueOn: String?, submittedBy: Int64?)>(
        "mail_task_facts",
        "SELECT title, due_on::text AS due_on, submitted_by FROM accord.task WHERE id = $1"
    ) { (try $0.decode(String.self, "title"), try $0.decode(String?.self, "due_on"), try $0.decode(Int64?.self, "submitted_by")) }
    /// Messages written before mail was on, never tried, and older than $1: given up rather than sent stale.
    static let expire = PostgresCommand<Date>(
        "mail_expire",
        """
        UPDATE accord.mail SET failed_at = now(), secret = NULL, last_reply = 'not sent: written before mail was configured, and now stale'
        WHERE mode = 'now' AND sent_at IS NULL AND failed_at IS NULL AND attempts = 0 AND created_at < $1
        """
    )
    /// Leases up to $2 messages due at $1 that nobody else holds; a crashed sender's lease runs out.
    static let claim = PostgresQuery<Date, Int, OutgoingMail>(
        "mail_claim",
        """
        UPDATE accord.mail m SET leased_until = now() + interval '2 minutes', lease_token = gen_random_uuid(), attempts = m.attempts + 1
        FROM (SELECT id FROM accord.mail
              WHERE mode = 'now' AND sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until < now())
              ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) c,
             accord.person p
        WHERE m.id = c.id AND p.id = m.person_id
        RETURNING m.id, m.address, m.kind, m.thread, m.subject, m.body::text AS body, m.secret, m.attempts, m.lease_token,
                  m.created_at, p.name, p.time_zone
        """,
        row: OutgoingMail.init(row:)
    )
    /// $1 the message, $2 the server's answer, $3 the lease token.
    static let sent = PostgresCommand<UUID, String, UUID>(
        "mail_sent",
        """
        UPDATE accord.mail SET sent_at = now(), secret = NULL, leased_until = NULL, lease_token = NULL, last_reply = $2
        WHERE id = $1 AND lease_token = $3
        """
    )
    /// $1 the message, $2 the answer, $3 the next attempt, $4 the last attempt allowed, $5 the lease token.
    static let retry = PostgresCommand<UUID, String, Date, Int, UUID>(
        "mail_retry",
        """
        UPDATE accord.mail SET leased_until = NULL, lease_token = NULL, last_reply = $2,
            next_attempt_at = CASE WHEN attempts >= $4 THEN next_attempt_at ELSE $3 END,
            failed_at = CASE WHEN attempts >= $4 THEN now() END,
            secret = CASE WHEN attempts >= $4 THEN NULL ELSE secret END
        WHERE id = $1 AND lease_token = $5
        """
    )
    /// $1 the message, $2 the permanent refusal, $3 the lease token.
    static let giveUp = PostgresCommand<UUID, String, UUID>(
        "mail_give_up",
        """
        UPDATE accord.mail SET failed_at = now(), secret = NULL, leased_until = NULL, lease_token = NULL, last_reply = $2
        WHERE id = $1 AND lease_token = $3
        """
    )
    /// People whose digest is due at $1: items wait for it, their digest hour has come in their time zone,
    /// and today's (in that zone) was not made yet.
    static let digestsDue = PostgresQuery<Date, (personID: Int64, day: String)>(
        "mail_digests_due",
        """
        SELECT p.id, (($1::timestamptz) AT TIME ZONE p.time_zone)::date::text AS day
        FROM accord.person p
        WHERE p.disabled_at IS NULL AND p.email IS NOT NULL
          AND EXISTS (SELECT 1 FROM accord.mail m WHERE m.person_id = p.id AND m.mode = 'digest' AND m.digest_id IS NULL)
          AND extract(hour FROM ($1::timestamptz) AT TIME ZONE p.time_zone) >= p.digest_hour
          AND NOT EXISTS (SELECT 1 FROM accord.mail_digest d WHERE d.person_id = p.id AND d.day = (($1::timestamptz) AT TIME ZONE p.time_zone)::date)
        ORDER BY p.id
        """
    ) { (try $0.decode(Int64.self, "id"), try $0.decode(String.self, "day")) }
    /// Claims the person's ($1) digest of the day ($2); no row back: another scheduler made it.
    static let claimDigest = PostgresQuery<Int64, String, Int64>(
        "mail_claim_digest",
        "INSERT INTO accord.mail_digest (person_id, day) VALUES ($1, $2::date) ON CONFLICT DO NOTHING RETURNING person_id"
    ) { try $0.decode(Int64.self, "person_id") }
    /// The messages waiting for a person's digest, locked.
    static let digestItems = PostgresQuery<Int64, (id: UUID, subject: String, body: MailBody, at: Date)>(
        "mail_digest_items",
        """
        SELECT id, subject, body, created_at FROM accord.mail
        WHERE person_id = $1 AND mode = 'digest' AND digest_id IS NULL ORDER BY created_at FOR UPDATE
        """
    ) {
        let (id, subject, at) = (try $0.decode(UUID.self, "id"), try $0.decode(String.self, "subject"), try $0.decode(Date.self, "created_at"))
        // Last: a catalogue probe's placeholder is no JSON.
        return (id, subject, try $0.decode(PostgresJSON.self, "body").decode(MailBody.self), at)
    }
    /// The digest message itself, returning its id.
    static let insertDigest = PostgresQuery<Int64, String, PostgresJSON, UUID>(
        "mail_insert_digest",
        """
        INSERT INTO accord.mail (person_id, address, kind, mode, subject, body)
        SELECT id, email, 'digest', 'now', $2, $3::jsonb FROM accord.person WHERE id = $1 RETURNING id
        """
    ) { try $0.decode(UUID.self, "id") }
    /// Marks the items ($2) as carried by the digest ($1) and records it against the day.
    static let carried = PostgresCommand<UUID, PostgresArray<String>, Int64, String>(
        "mail_carried",
        """
        WITH items AS (UPDATE accord.mail SET digest_id = $1 WHERE id = ANY($2::text[]::uuid[]))
        UPDATE accord.mail_digest SET mail_id = $1 WHERE person_id = $3 AND day = $4::date
        """
    )
    /// The messages given up, newest first, for administrators.
    static let failed = PostgresQuery<Int, FailedMail>(
        "mail_failed",
        """
        SELECT m.id, p.handle, m.address, m.kind, m.subject, m.attempts, m.failed_at, coalesce(m.last_reply, '') AS last_reply
        FROM accord.mail m JOIN accord.person p ON p.id = m.person_id
        WHERE m.failed_at IS NOT NULL ORDER BY m.failed_at DESC LIMIT $1
        """,
        row: FailedMail.init(row:)
    )
    /// Messages sent, waiting (at once or for a digest) and given up.
    static let counts = PostgresQuery<MailCounts>(
        "mail_counts",
        """
        SELECT count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent,
               count(*) FILTER (WHERE mode = 'now' AND sent_at IS NULL AND failed_at IS NULL) AS waiting,
               count(*) FILTER (WHERE mode = 'digest' AND digest_id IS NULL) AS in_digest,
               count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed
        FROM accord.mail
        """
    ) {
        MailCounts(
            sent: try $0.decode(Int.self, "sent"),
            waiting: try $0.decode(Int.self, "waiting"),
            inDigest: try $0.decode(Int.self, "in_digest"),
            failed: try $0.decode(Int.self, "failed")
        )
    }
    static let preferences = PostgresQuery<Int64, (kind: String, mode: MailMode)>(
        "mail_preferences",
        "SELECT kind, mode FROM accord.mail_preference WHERE person_id = $1"
    ) { (try $0.decode(String.self, "kind"), try $0.decode(MailMode.self, "mode")) }
    static let setPreference = PostgresCommand<Int64, String, MailMode>(
        "mail_set_preference",
        """
        INSERT INTO accord.mail_preference (person_id, kind, mode) VALUES ($1, $2, $3)
        ON CONFLICT (person_id, kind) DO UPDATE SET mode = excluded.mode
        """
    )
    static let setSchedule = PostgresCommand<Int64, String, Int>(
        "mail_set_schedule",
        "UPDATE accord.person SET time_zone = $2, digest_hour = $3 WHERE id = $1"
    )
    static let schedule = PostgresQuery<Int64, (timeZone: String, digestHour: Int)>(
        "mail_schedule",
        "SELECT time_zone, digest_hour FROM accord.person WHERE id = $1"
    ) { (try $0.decode(String.self, "time_zone"), try $0.decode(Int.self, "digest_hour")) }
    /// Whether PostgreSQL (whose zone names the digest's hour is computed with) knows the time zone.
    static let knownZone = PostgresQuery<String, Bool>(
        "mail_known_zone",
        "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1) AS known"
    ) { try $0.decode(Bool.self, "known") }

    static let catalogue: [any PostgresCheckable] = [
        queue, holders, signers, taskFacts, delegationsEnding, expire, claim, sent, retry, giveUp, digestsDue, claimDigest, digestItems, insertDigest,
        carried, failed, counts,
        preferences, setPreference, setSchedule, schedule, knownZone,
    ]
}

extension MailMode: PostgresTextEnum {}
