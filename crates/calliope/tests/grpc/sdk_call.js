// Places a call with the official Fonoster SDK over gRPC (createCall, whose
// statusStream is TrackCall) and prints the statuses seen as JSON.
// Environment: NODE_PATH (the SDK), ENDPOINT, EMAIL, PASSWORD,
// ACCESS_KEY_ID, TO.
const SDK = require("@fonoster/sdk");

async function main() {
  const client = new SDK.Client({ endpoint: process.env.ENDPOINT, accessKeyId: process.env.ACCESS_KEY_ID, allowInsecure: true });
  await client.login(process.env.EMAIL, process.env.PASSWORD);
  const calls = new SDK.Calls(client);
  const { ref, statusStream } = await calls.createCall({ from: "5550100", to: process.env.TO });
  const statuses = [];
  for await (const s of statusStream) {
    statuses.push(s.status);
  }
  return { ref, statuses };
}

main().then(
  (out) => {
    console.log(JSON.stringify(out));
    process.exit(0);
  },
  (e) => {
    console.log(JSON.stringify({ failure: String(e && e.stack ? e.stack : e) }));
    process.exit(1);
  }
);
