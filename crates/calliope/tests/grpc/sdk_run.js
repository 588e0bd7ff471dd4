// Drives the official @fonoster/sdk against a running Calliope, unchanged,
// and prints what it saw as one JSON object for crates/calliope/tests/
// grpc_sdk.rs to check. Configuration comes from the environment:
// ENDPOINT (host:port of the gRPC API), EMAIL, PASSWORD, ACCESS_KEY_ID,
// REST_APP_REF (an application made over REST before this runs).
"use strict";
const SDK = require("@fonoster/sdk");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const endpoint = env("ENDPOINT");
const accessKeyId = env("ACCESS_KEY_ID");
const out = {};

const client = () => new SDK.Client({ endpoint, accessKeyId, allowInsecure: true });
// The gRPC status code of a failing call, or "OK".
async function code(promise) {
  try {
    await promise;
    return "OK";
  } catch (e) {
    return e.code === undefined ? String(e.message) : e.code;
  }
}

async function main() {
  // Logins: credentials, a wrong password, API key, refresh token.
  const owner = client();
  await owner.login(env("EMAIL"), env("PASSWORD"));
  out.loginAccessToken = owner.getAccessToken().length > 0;
  out.wrongPassword = await code(client().login(env("EMAIL"), "not the password"));

  const keys = new SDK.ApiKeys(owner);
  const key = await keys.createApiKey({ role: "WORKSPACE_ADMIN" });
  out.apiKeyId = key.accessKeyId;
  const byKey = client();
  await byKey.loginWithApiKey(key.accessKeyId, key.accessKeySecret);
  out.apiKeyApps = (await new SDK.Applications(byKey).listApplications({ pageSize: 10 })).items.length;
  out.apiKeyList = (await keys.listApiKeys({ pageSize: 10 })).items.map((k) => k.accessKeyId);
  const regenerated = await keys.regenerateApiKey(key.ref);
  out.regeneratedSameId = regenerated.accessKeyId === key.accessKeyId;
  out.oldSecretRefused = await code(client().loginWithApiKey(key.accessKeyId, key.accessKeySecret));
  out.apiKeyDeleted = (await keys.deleteApiKey(key.ref)).ref === key.ref;

  const byRefresh = client();
  await byRefresh.loginWithRefreshToken(owner.getRefreshToken());
  out.refreshApps = (await new SDK.Applications(byRefresh).listApplications({ pageSize: 10 })).items.length;

  // A forged token, and no token at all.
  const forged = client();
  forged.setAccessToken("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl");
  out.forgedToken = await code(new SDK.Applications(forged).listApplications({ pageSize: 10 }));

  // Workspaces.
  const ws = new SDK.Workspaces(owner);
  const list = await ws.listWorkspaces();
  out.workspaces = list.items.map((w) => w.accessKeyId);
  const mine = list.items.find((w) => w.accessKeyId === accessKeyId);
  out.workspaceName = (await ws.getWorkspace(mine.ref)).name;
  const other = await ws.createWorkspace({ name: "grpc-other" });
  await ws.updateWorkspace({ ref: other.ref, name: "grpc-renamed" });
  out.otherWorkspace = (await ws.getWorkspace(other.ref)).name;
  out.otherAccessKeyId = (await ws.getWorkspace(other.ref)).accessKeyId;
  out.members = (await ws.listWorkspaceMembers({ pageSize: 10 })).items.map((m) => m.role);

  // Users and members: a user made here is a member; removed, then invited back.
  const users = new SDK.Users(owner);
  const made = await users.createUser({ email: "ops@example.com", password: "a long password", name: "Ops" });
  out.user = await users.getUser(made.ref);
  await users.updateUser({ ref: made.ref, name: "Ops Team" }).catch((e) => { out.updateOtherUser = e.code; });
  const count = async () => (await ws.listWorkspaceMembers({ pageSize: 10 })).items.length;
  out.membersWithUser = await count();
  out.removed = (await ws.removeUserFromWorkspace(made.ref)).userRef === made.ref;
  out.membersAfterRemove = await count();
  const invited = await ws.inviteUserToWorkspace({ email: "ops@example.com", role: "WORKSPACE_MEMBER", name: "Ops" });
  out.invitedSameUser = invited.userRef === made.ref;
  out.membersAfterInvite = await count();
  out.inviteUnknown = await code(ws.inviteUserToWorkspace({ email: "nobody@example.com", role: "WORKSPACE_MEMBER", name: "N" }));

  // An API key of the other workspace, used with this workspace's id.
  const inOther = client();
  await inOther.login(env("EMAIL"), env("PASSWORD"));
  inOther.setAccessKeyId(out.otherAccessKeyId);
  const otherKey = await new SDK.ApiKeys(inOther).createApiKey({ role: "WORKSPACE_ADMIN" });
  const foreign = client();
  await foreign.loginWithApiKey(otherKey.accessKeyId, otherKey.accessKeySecret);
  out.foreignToken = await code(new SDK.Applications(foreign).listApplications({ pageSize: 10 }));

  // Applications.
  const apps = new SDK.Applications(owner);
  const app = await apps.createApplication({
    name: "grpc app",
    type: "EXTERNAL",
    endpoint: "https://example.com/voice",
    textToSpeech: { productRef: "tts.google", config: { voice: "en-US-Casual-K" } },
  });
  await apps.updateApplication({ ref: app.ref, name: "grpc app renamed" });
  const gotApp = await apps.getApplication(app.ref);
  out.app = { ref: app.ref, name: gotApp.name, type: gotApp.type, endpoint: gotApp.endpoint,
    tts: gotApp.textToSpeech, createdAt: gotApp.createdAt };
  out.appListed = (await apps.listApplications({ pageSize: 50 })).items.some((a) => a.ref === app.ref);
  out.restApp = (await apps.getApplication(env("REST_APP_REF"))).name;
  out.badApp = await code(apps.createApplication({ name: "no endpoint", type: "EXTERNAL" }));
  const other2 = client();
  await other2.login(env("EMAIL"), env("PASSWORD"));
  other2.setAccessKeyId(out.otherAccessKeyId);
  out.otherWorkspaceGet = await code(new SDK.Applications(other2).getApplication(app.ref));

  // ACLs, credentials, numbers, domains, agents, trunks, secrets.
  const acls = new SDK.Acls(owner);
  const acl = await acls.createAcl({ name: "office", allow: ["192.0.2.0/24"] });
  await acls.updateAcl({ ref: acl.ref, name: "office-2", allow: ["198.51.100.7"] });
  out.acl = await acls.getAcl(acl.ref);
  out.aclListed = (await acls.listAcls({ pageSize: 50 })).items.length;

  const creds = new SDK.Credentials(owner);
  const cred = await creds.createCredentials({ name: "phone", username: "grpcuser", password: "a good password" });
  await creds.updateCredentials({ ref: cred.ref, name: "phone-2" });
  out.cred = await creds.getCredentials(cred.ref);
  out.credListed = (await creds.listCredentials({ pageSize: 50 })).items.length;

  const numbers = new SDK.Numbers(owner);
  const number = await numbers.createNumber({
    name: "main line", telUrl: "tel:+17853178070", city: "Topeka", country: "USA", countryIsoCode: "US",
    appRef: app.ref,
  });
  await numbers.updateNumber({ ref: number.ref, name: "main line 2" });
  out.number = await numbers.getNumber(number.ref);
  out.numberListed = (await numbers.listNumbers({ pageSize: 50 })).items.length;

  const domains = new SDK.Domains(owner);
  const domain = await domains.createDomain({
    name: "grpc domain", domainUri: "grpc.sip.example.com", accessControlListRef: acl.ref,
  });
  await domains.updateDomain({ ref: domain.ref, name: "grpc domain 2" });
  out.domain = await domains.getDomain(domain.ref);
  out.domainListed = (await domains.listDomains({ pageSize: 50 })).items.length;

  const agents = new SDK.Agents(owner);
  const agent = await agents.createAgent({
    name: "Jane", username: "jane", privacy: "PRIVATE", enabled: true,
    domainRef: domain.ref, credentialsRef: cred.ref, maxContacts: 3, expires: 600,
  });
  await agents.updateAgent({ ref: agent.ref, name: "Jane Doe" });
  out.agent = await agents.getAgent(agent.ref);
  out.agentListed = (await agents.listAgents({ pageSize: 50 })).items.length;
  const toAgent = await numbers.createNumber({
    name: "direct line", telUrl: "tel:+17853178071", agentAor: "sip:jane@grpc.sip.example.com",
  });
  out.agentNumber = await numbers.getNumber(toAgent.ref);
  out.unknownAor = await code(numbers.createNumber({
    name: "nobody", telUrl: "tel:+17853178072", agentAor: "sip:nobody@grpc.sip.example.com",
  }));
  out.wrongHostAor = await code(numbers.createNumber({
    name: "wrong host", telUrl: "tel:+17853178073", agentAor: "sip:jane@elsewhere.example.com",
  }));
  out.duplicateAgent = await code(agents.createAgent({ name: "Jane again", username: "jane", enabled: true }));
  out.credInUse = await code(creds.deleteCredentials(cred.ref));

  const trunks = new SDK.Trunks(owner);
  const trunk = await trunks.createTrunk({
    name: "provider", inboundUri: "sip:provider.example.com", accessControlListRef: acl.ref,
    inboundCredentialsRef: cred.ref, outboundCredentialsRef: cred.ref, sendRegister: true,
    uris: [{ host: "sip.provider.example.com", port: 5060, transport: "UDP", user: "", weight: 1, priority: 1, enabled: true }],
  });
  await trunks.updateTrunk({ ref: trunk.ref, name: "provider 2" });
  out.trunk = await trunks.getTrunk(trunk.ref);
  out.trunkListed = (await trunks.listTrunks({ pageSize: 50 })).items.length;

  const secrets = new SDK.Secrets(owner);
  const secret = await secrets.createSecret({ name: "API_TOKEN", secret: "hunter2 is not a secret" });
  await secrets.updateSecret({ ref: secret.ref, secret: "a new value" });
  out.secret = await secrets.getSecret(secret.ref);
  out.secretList = (await secrets.listSecrets({ pageSize: 50 })).items;

  // Bad input over HTTP/2, as raw bytes through grpc-js's generic client.
  const grpc = require("@grpc/grpc-js");
  const raw = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  const rawCall = (path, bytes, withToken) => new Promise((resolve) => {
    const md = new grpc.Metadata();
    if (withToken) {
      md.set("token", owner.getAccessToken());
      md.set("accessKeyId", accessKeyId);
    }
    raw.makeUnaryRequest(path, (b) => b, (b) => b, bytes, md, (err) => resolve(err ? err.code : 0));
  });
  const create = "/fonoster.applications.v1beta2.Applications/CreateApplication";
  const appsBefore = (await apps.listApplications({ pageSize: 100 })).items.length;
  // Field 1 (name), length 255, one byte present.
  out.h2Malformed = await rawCall(create, Buffer.from([0x0a, 0xff, 0x01, 0x78]), true);
  out.h2Unknown = await rawCall("/fonoster.applications.v1beta2.Applications/Nope", Buffer.alloc(0), true);
  // Field 1 (name) of 2 MiB: over the default 1 MiB body limit.
  const big = Buffer.alloc(2 * 1024 * 1024, 0x78);
  const head = Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x01]);
  out.h2Oversized = await rawCall(create, Buffer.concat([head, big]), true);
  out.h2NoToken = await rawCall(create, Buffer.from([0x0a, 0x01, 0x78]), false);
  out.h2Unchanged = (await apps.listApplications({ pageSize: 100 })).items.length === appsBefore;
  raw.close();

  // Calls: records can be read; placing one goes through call control.
  const calls = new SDK.Calls(owner);
  out.calls = (await calls.listCalls({ pageSize: 10 })).items.length;
  out.createCall = await code(calls.createCall({ from: "+15551230000", to: "+15551231111", appRef: app.ref }));
  out.missingCall = await code(calls.getCall("00000000-0000-0000-0000-000000000000"));

  // Deletions, in the order references allow, then each is gone.
  out.deleted = [];
  for (const [svc, del, get, ref] of [
    [trunks, "deleteTrunk", "getTrunk", trunk.ref],
    [numbers, "deleteNumber", "getNumber", toAgent.ref],
    [agents, "deleteAgent", "getAgent", agent.ref],
    [domains, "deleteDomain", "getDomain", domain.ref],
    [numbers, "deleteNumber", "getNumber", number.ref],
    [creds, "deleteCredentials", "getCredentials", cred.ref],
    [acls, "deleteAcl", "getAcl", acl.ref],
    [secrets, "deleteSecret", "getSecret", secret.ref],
  ]) {
    const gone = await svc[del](ref);
    out.deleted.push([gone.ref === ref, await code(svc[get](ref))]);
  }
  // This application stays, for the test to read over REST.
  await ws.deleteWorkspace(other.ref);
  out.otherGone = await code(ws.getWorkspace(other.ref));
}

main().then(
  () => {
    console.log(JSON.stringify(out));
    process.exit(0);
  },
  (e) => {
    console.log(JSON.stringify({ ...out, failure: String(e && e.stack ? e.stack : e), code: e && e.code }));
    process.exit(1);
  }
);
