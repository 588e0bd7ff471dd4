// Drives the official `@vonage/applications` client, unchanged, against a
// running Calliope. Reads VONAGE_API_HOST, VONAGE_API_KEY and
// VONAGE_API_SECRET; prints one JSON line of what the client saw, which
// the Rust test (crates/calliope/tests/vonage_sdk.rs) checks against REST.
'use strict';

const { Applications } = require('@vonage/applications');

async function main() {
  const client = new Applications(
    { apiKey: process.env.VONAGE_API_KEY, apiSecret: process.env.VONAGE_API_SECRET },
    { apiHost: process.env.VONAGE_API_HOST, timeout: 20000 },
  );
  const out = {};

  const created = await client.createApplication({
    name: 'sdk first',
    capabilities: {
      voice: {
        webhooks: {
          answerUrl: { address: 'https://example.com/answer', httpMethod: 'GET' },
          eventUrl: { address: 'https://example.com/event', httpMethod: 'POST' },
        },
      },
    },
  });
  out.created = {
    id: created.id,
    name: created.name,
    hasPrivateKey: typeof created.keys?.privateKey === 'string',
    hasPublicKey: typeof created.keys?.publicKey === 'string',
  };

  const got = await client.getApplication(created.id);
  out.got = {
    id: got.id,
    name: got.name,
    answer: got.capabilities?.voice?.webhooks?.answerUrl?.address ?? null,
  };

  const updated = await client.updateApplication({ ...got, name: 'sdk renamed' });
  out.updated = { id: updated.id, name: updated.name };

  out.more = [];
  for (let i = 0; i < Number(process.env.MORE || 25); i++) {
    const app = await client.createApplication({ name: `sdk bulk ${i}` });
    out.more.push(app.id);
  }

  const firstPage = await client.listApplications({ pageSize: 10, page: 1 });
  out.firstPage = {
    pageSize: firstPage.pageSize,
    totalItems: firstPage.totalItems,
    totalPages: firstPage.totalPages,
    count: firstPage._embedded?.applications?.length ?? 0,
  };

  out.listed = [];
  for await (const app of client.listAllApplications({ pageSize: 10 })) {
    out.listed.push(app.id);
  }

  await client.deleteApplication(created.id);
  try {
    await client.getApplication(created.id);
    out.afterDelete = 'found';
  } catch (e) {
    out.afterDelete = e.response?.status ?? String(e);
  }

  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`vonage client failed: ${e && e.stack ? e.stack : e}\n`);
  if (e && e.response) {
    process.stderr.write(`status ${e.response.status}\n`);
  }
  process.exit(1);
});
