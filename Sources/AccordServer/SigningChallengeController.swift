import AccordCore
import AccordSSO
public import AccordStore
import Foundation
public import Hummingbird
import HummingbirdAuth

extension SigningChallenge: ResponseEncodable {}

/// `POST /api/v1/tasks/{task}/signing-challenges` {decision, meaning?, comment?, issuer?}.
struct ChallengeBody: Decodable {
    var decision: SigningDecision?
    var meaning: SignatureMeaning?
    var comment: String?
    /// The identity provider to sign with; the signer's only one when left out.
    var issuer: Int64?
}

/// A signing challenge as created: where the signer authenticates afresh.
struct NewChallenge: ResponseEncodable, Sendable {
    var id: UUID
    var task: String
    var status: String
    /// Open it in the signer's browser: a fresh login at the provider, after which Accord signs.
    var authorizationURL: String
    var expiresAt: Date
}

/// Signing through SSO from an API client: the client asks for a challenge, the signer completes it in a
/// browser at the provider (`prompt=login`, `max_age=0`), and the client reads the outcome. A person with
/// a local password signs with `POST /tasks/{task}/sign` instead.
struct SigningChallengeController {
    let store: Store
    let sso: SingleSignOn

    /// The routes, relative to `/api/v1`.
    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .post("tasks/:task/signing-challenges", use: create)
            .get("signing-challenges/:challenge", use: show)
    }

    @Sendable func create(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        let task = try context.parameters.require("task")
        guard Int64(task) != nil else { throw AccordError(.invalid, "a task is addressed by its numeric id in the API") }
        let body = try await request.decode(as: ChallengeBody.self, context: context)
        let identities = try await store.ssoIdentities(of: person.handle, actor: person.handle)
        guard let issuer = body.issuer ?? identities.first?.issuerID else {
            throw AccordError(.forbidden, "\(person.handle) is linked to no identity provider; sign with a password at POST /tasks/\(task)/sign")
        }
        guard try await store.canSignNow(task, actor: person.handle) else {
            throw AccordError(.conflict, "task \(task) is not waiting for \(person.handle)'s signature")
        }
        let intent = SigningIntent(task: task, decision: body.decision ?? .approve, meaning: body.meaning, comment: body.comment)
        // Not bound to a browser: the client is not the browser; the fresh login and the signer's subject are the proof.
        let started = try await sso.start(request, issuer: issuer, purpose: .sign(intent), actor: person.handle, bindBrowser: false)
        var response = try NewChallenge(
            id: started.ticket.id,
            task: task,
            status: "pending",
            authorizationURL: started.url,
            expiresAt: started.ticket.expiresAt
        ).response(from: request, context: context)
        response.status = .created
        response.headers[.location] = "/api/v1/signing-challenges/\(started.ticket.id.uuidString.lowercased())"
        return response
    }

    @Sendable func show(_ request: Request, context: AccordContext) async throws -> SigningChallenge {
        let id = try context.parameters.require("challenge")
        guard let uuid = UUID(uuidString: id) else { throw AccordError(.notFound, "no signing challenge \(id) of yours") }
        return try await store.signingChallenge(uuid, actor: try context.actor)
    }
}
