import AccordCore
import AccordStore
import Foundation
import Hummingbird
import NIOCore

/// `/scim/v2`: provisioning by an identity provider's SCIM client (RFC 7643, RFC 7644), with a
/// provisioning token (`accord token create --scim`). Users are people; deactivating one disables the
/// person at once as a leaver; Groups turn into role bindings through the group rules. Errors are SCIM's
/// own (`application/scim+json`, RFC 7644 §3.12), not problem+json: that is what SCIM clients read.
struct SCIMController {
    let store: Store
    let sso: SingleSignOn

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("ServiceProviderConfig", use: serviceProviderConfig)
            .get("ResourceTypes", use: resourceTypes)
            .get("ResourceTypes/:name", use: resourceType)
            .get("Schemas", use: schemas)
            .get("Schemas/:urn", use: schema)
            .get("Users", use: listUsers)
            .post("Users", use: createUser)
            .get("Users/:id", use: getUser)
            .put("Users/:id", use: replaceUser)
            .patch("Users/:id", use: patchUser)
            .delete("Users/:id", use: deleteUser)
            .get("Groups", use: listGroups)
            .post("Groups", use: createGroup)
            .get("Groups/:id", use: getGroup)
            .put("Groups/:id", use: replaceGroup)
            .patch("Groups/:id", use: patchGroup)
            .delete("Groups/:id", use: deleteGroup)
            .post(".search", use: search)
            .post("ServiceProviderConfig", use: readOnly).put("ServiceProviderConfig", use: readOnly)
            .patch("ServiceProviderConfig", use: readOnly).delete("ServiceProviderConfig", use: readOnly)
            .post("ResourceTypes", use: readOnly).put("ResourceTypes", use: readOnly)
            .patch("ResourceTypes", use: readOnly).delete("ResourceTypes", use: readOnly)
            .post("Schemas", use: readOnly).put("Schemas", use: readOnly).patch("Schemas", use: readOnly).delete("Schemas", use: readOnly)
            .get("**", use: unknown)
            .post("**", use: unknown)
            .put("**", use: unknown)
            .patch("**", use: unknown)
            .delete("**", use: unknown)
    }

    /// A write to a discovery endpoint: 405, they are read-only.
    @Sendable func readOnly(_ request: Request, context: AccordContext) async -> Response {
        var response = await answer(request) { _ in throw SCIMFailure(405, nil, "\(request.uri.path) is read-only") }
        response.headers[.allow] = "GET"
        return response
    }

    /// Anything else under /scim/v2: a SCIM 404, which SCIM clients read.
    @Sendable func unknown(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { _ in throw SCIMFailure(404, nil, "no SCIM endpoint \(request.uri.path)") }
    }

    func base(_ request: Request) -> String { sso.base(request) + "/scim/v2" }

    // MARK: discovery

    @Sendable func serviceProviderConfig(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { _ in self.json(SCIM.serviceProviderConfig(base: self.base(request))) }
    }

    @Sendable func resourceTypes(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { _ in self.list(SCIM.resourceTypes(base: self.base(request)), total: 2, start: 1) }
    }

    @Sendable func resourceType(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { _ in
            let name = try context.parameters.require("name")
            guard let found = SCIM.resourceTypes(base: self.base(request)).first(where: { ($0["id"] as? String) == name }) else {
                throw SCIMFailure(404, nil, "no resource type \(name)")
            }
            return self.json(found)
        }
    }

    @Sendable func schemas(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { _ in self.list(SCIM.schemas(base: self.base(request)), total: 2, start: 1) }
    }

    @Sendable func schema(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { _ in
            let urn = try context.parameters.require("urn")
            guard let found = SCIM.schemas(base: self.base(request)).first(where: { ($0["id"] as? String) == urn }) else {
                throw SCIMFailure(404, nil, "no schema \(urn)")
            }
            return self.json(found)
        }
    }

    @Sendable func search(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { _ in throw SCIMFailure(501, nil, "searching with POST /.search is not supported; use GET with a filter") }
    }

    // MARK: Users

    @Sendable func listUsers(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { _ in
            let (filter, start, count) = try self.listParameters(request, filterable: ["userName", "externalId"])
            let page = try await self.store.scimUsers(
                userName: filter?.0 == "userName" ? filter?.1 : nil,
                externalID: filter?.0 == "externalId" ? filter?.1 : nil,
                startIndex: start,
                count: count
            )
            let items = page.items.map { self.project(SCIM.user($0, base: self.base(request)), request) }
            return self.list(items, total: page.total, start: start)
        }
    }

    @Sendable func getUser(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { _ in
            let user = try await self.currentUser(context)
            return try self.resource(SCIM.user(user, base: self.base(request)), request, reading: true)
        }
    }

    @Sendable func createUser(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { actor in
            let body = try await self.object(request)
            let created = try await self.store.scimCreateUser(try SCIMInput.user(body), actor: actor)
            var response = self.json(SCIM.user(created, base: self.base(request)), status: .created)
            response.headers[.location] = "\(self.base(request))/Users/\(created.id.uuidString.lowercased())"
            return response
        }
    }

    @Sendable func replaceUser(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { actor in
            let id = try self.id(context)
            let input = try SCIMInput.user(try await self.object(request))
            let base = self.base(request)
            let replaced = try await self.store.scimChangeUser(id, actor: actor) { current in
                try self.checkIfMatch(request, SCIM.user(current, base: base))
                return input
            }
            return try self.resource(SCIM.user(replaced, base: base), request)
        }
    }

    @Sendable func patchUser(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { actor in
            let id = try self.id(context)
            let body = try await self.bytes(request)
            let base = self.base(request)
            // The patch applies to the User as it is under the row lock, not as it was read before.
            let replaced = try await self.store.scimChangeUser(id, actor: actor) { current in
                var json = SCIM.user(current, base: base)
                try self.checkIfMatch(request, json)
                json["meta"] = nil
                json["groups"] = nil
                return try SCIMInput.user(try SCIMPatcher.apply(try Self.object(body), to: json, known: SCIM.userAttributes, schema: SCIM.userSchema))
            }
            return try self.resource(SCIM.user(replaced, base: base), request)
        }
    }

    @Sendable func deleteUser(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { actor in
            let base = self.base(request)
            try await self.store.scimDeleteUser(try self.id(context), actor: actor) { current in
                try self.checkIfMatch(request, SCIM.user(current, base: base))
            }
            return Response(status: .noContent)
        }
    }

    /// The `{id}` of the path; an id that is not a UUID names nothing.
    func id(_ context: AccordContext) throws -> UUID {
        let id = try context.parameters.require("id")
        guard let uuid = UUID(uuidString: id) else { throw SCIMFailure(404, nil, "nothing has the id \(id)") }
        return uuid
    }

    private func currentUser(_ context: AccordContext) async throws -> SCIMUser {
        let id = try context.parameters.require("id")
        guard let uuid = UUID(uuidString: id), let user = try await store.scimUser(uuid) else { throw SCIMFailure(404, nil, "no User \(id)") }
        return user
    }

    // MARK: Groups

    @Sendable func listGroups(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { _ in
            let (filter, start, count) = try self.listParameters(request, filterable: ["displayName", "externalId"])
            let page = try await self.store.scimGroups(
                displayName: filter?.0 == "displayName" ? filter?.1 : nil,
                externalID: filter?.0 == "externalId" ? filter?.1 : nil,
                startIndex: start,
                count: count
            )
            let items = page.items.map { self.project(SCIM.group($0, base: self.base(request)), request) }
            return self.list(items, total: page.total, start: start)
        }
    }

    @Sendable func getGroup(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { _ in
            try self.resource(SCIM.group(try await self.currentGroup(context), base: self.base(request)), request, reading: true)
        }
    }

    @Sendable func createGroup(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { actor in
            let input = try SCIMInput.group(try await self.object(request))
            let created = try await self.store.scimCreateGroup(
                displayName: input.displayName,
                externalID: input.externalID,
                members: input.members,
                actor: actor
            )
            var response = self.json(SCIM.group(created, base: self.base(request)), status: .created)
            response.headers[.location] = "\(self.base(request))/Groups/\(created.id.uuidString.lowercased())"
            return response
        }
    }

    @Sendable func replaceGroup(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { actor in
            let id = try self.id(context)
            let input = try SCIMInput.group(try await self.object(request))
            let base = self.base(request)
            let replaced = try await self.store.scimChangeGroup(id, actor: actor) { current in
                try self.checkIfMatch(request, SCIM.group(current, base: base))
                return Store.SCIMGroupInput(displayName: input.displayName, externalID: input.externalID, members: input.members)
            }
            return try self.resource(SCIM.group(replaced, base: base), request)
        }
    }

    @Sendable func patchGroup(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { actor in
            let id = try self.id(context)
            let body = try await self.bytes(request)
            let base = self.base(request)
            let replaced = try await self.store.scimChangeGroup(id, actor: actor) { current in
                var json = SCIM.group(current, base: base)
                try self.checkIfMatch(request, json)
                json["meta"] = nil
                let input = try SCIMInput.group(
                    try SCIMPatcher.apply(try Self.object(body), to: json, known: SCIM.groupAttributes, schema: SCIM.groupSchema)
                )
                return Store.SCIMGroupInput(displayName: input.displayName, externalID: input.externalID, members: input.members)
            }
            return try self.resource(SCIM.group(replaced, base: base), request)
        }
    }

    @Sendable func deleteGroup(_ request: Request, context: AccordContext) async -> Response {
        await answer(request) { actor in
            let base = self.base(request)
            try await self.store.scimDeleteGroup(try self.id(context), actor: actor) { current in
                try self.checkIfMatch(request, SCIM.group(current, base: base))
            }
            return Response(status: .noContent)
        }
    }

    private func currentGroup(_ context: AccordContext) async throws -> SCIMGroup {
        let id = try context.parameters.require("id")
        guard let uuid = UUID(uuidString: id), let group = try await store.scimGroup(uuid) else { throw SCIMFailure(404, nil, "no Group \(id)") }
        return group
    }
}
